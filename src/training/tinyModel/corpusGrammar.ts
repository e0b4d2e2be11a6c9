// The text the shipped tiny model learns from, generated here so its licence is the
// project's own. Two registers over one small world:
//   plain  — the pretraining corpus: short narrated scenes, questions and answers.
//   pirate — the "style" dataset: the same world told by a pirate ("Arr!", "ye", "be",
//            dropped g's, "matey"), which the base model has never seen and a LoRA learns.
// Every choice comes from the seeded RNG, so a seed fixes the text byte for byte.
import type { Rng } from '../rng.ts';

const CHARACTERS = ['the cat', 'the old dog', 'a small bird', 'the farmer', 'my sister', 'the teacher', 'a young fox', 'the baker', 'the little boy', 'the tall girl', 'the fisherman', 'a grey mouse', 'the captain', 'the cook', 'an old woman', 'the sailor'];
const PLACES = ['the river', 'the garden', 'the big tree', 'the house', 'the hill', 'the market', 'the harbour', 'the village', 'the forest', 'the kitchen', 'the bridge', 'the old mill', 'the beach', 'the school'];
const PREPOSITIONS = ['near', 'in', 'under', 'behind', 'beside', 'across', 'by'];
const OBJECTS = ['a red ball', 'the map', 'a loaf of bread', 'a green apple', 'a blue box', 'the key', 'a basket of fish', 'an old coin', 'the lamp', 'a long rope', 'a letter', 'the bell'];
const TIMES = ['in the morning', 'at night', 'every day', 'after the rain', 'before dinner', 'on Sunday', 'at noon', 'in the winter'];
const FEELINGS = ['happy', 'tired', 'hungry', 'cold', 'quiet', 'proud', 'sleepy', 'busy'];
// [plain present, progressive stem]
const INTRANSITIVE: [string, string][] = [['sleeps', 'sleep'], ['runs', 'runn'], ['sings', 'sing'], ['waits', 'wait'], ['walks', 'walk'], ['plays', 'play'], ['sits', 'sitt'], ['rests', 'rest']];
const TRANSITIVE: [string, string][] = [['sees', 'see'], ['finds', 'find'], ['likes', 'lik'], ['carries', 'carry'], ['watches', 'watch'], ['holds', 'hold'], ['wants', 'want'], ['hides', 'hid']];

const pick = <T>(rng: Rng, list: readonly T[]): T => list[rng.nextInt(list.length)];
const capitalize = (s: string) => s[0].toUpperCase() + s.slice(1);

function plainSentence(rng: Rng): string {
  const who = pick(rng, CHARACTERS);
  switch (rng.nextInt(6)) {
    case 0:
      return `${capitalize(who)} ${pick(rng, INTRANSITIVE)[0]} ${pick(rng, PREPOSITIONS)} ${pick(rng, PLACES)} ${pick(rng, TIMES)}.`;
    case 1:
      return `${capitalize(who)} ${pick(rng, TRANSITIVE)[0]} ${pick(rng, OBJECTS)} ${pick(rng, PREPOSITIONS)} ${pick(rng, PLACES)}.`;
    case 2:
      return `${capitalize(pick(rng, TIMES))}, ${who} is ${pick(rng, FEELINGS)} and ${pick(rng, INTRANSITIVE)[0]} ${pick(rng, PREPOSITIONS)} ${pick(rng, PLACES)}.`;
    case 3: {
      const thing = pick(rng, OBJECTS);
      return `"Where is ${thing}?" asked ${who}. "It is ${pick(rng, PREPOSITIONS)} ${pick(rng, PLACES)}," said ${pick(rng, CHARACTERS)}.`;
    }
    case 4:
      return `${capitalize(who)} ${pick(rng, TRANSITIVE)[0]} ${pick(rng, OBJECTS)} because ${pick(rng, CHARACTERS)} is ${pick(rng, FEELINGS)}.`;
    default:
      return `${capitalize(who)} goes to ${pick(rng, PLACES)} and ${pick(rng, INTRANSITIVE)[0]} there ${pick(rng, TIMES)}.`;
  }
}

function pirateSentence(rng: Rng): string {
  const who = pick(rng, CHARACTERS);
  const opener = pick(rng, ['Arr', 'Ahoy', 'Yo ho', 'Avast', 'Shiver me timbers']);
  const closer = pick(rng, ['matey', 'me hearty', 'ye scallywag', 'savvy']);
  switch (rng.nextInt(5)) {
    case 0:
      return `${opener}! ${capitalize(who)} be ${pick(rng, INTRANSITIVE)[1]}in' ${pick(rng, PREPOSITIONS)} ${pick(rng, PLACES)} ${pick(rng, TIMES)}, ${closer}!`;
    case 1:
      return `${opener}, ${who} be ${pick(rng, TRANSITIVE)[1]}in' ${pick(rng, OBJECTS)} ${pick(rng, PREPOSITIONS)} ${pick(rng, PLACES)}, ${closer}!`;
    case 2:
      return `"Where be ${pick(rng, OBJECTS)}, ${closer}?" growled ${who}. "Arr, it be ${pick(rng, PREPOSITIONS)} ${pick(rng, PLACES)}!"`;
    case 3:
      return `${opener}! ${capitalize(pick(rng, TIMES))} ye'll find ${who} ${pick(rng, FEELINGS)} as a parrot ${pick(rng, PREPOSITIONS)} ${pick(rng, PLACES)}, ${closer}!`;
    default:
      return `${capitalize(who)} be ${pick(rng, FEELINGS)}, ${closer}, so hoist the sails to ${pick(rng, PLACES)}! Yo ho ho!`;
  }
}

function paragraph(rng: Rng, sentence: (rng: Rng) => string): string {
  const count = 3 + rng.nextInt(4);
  return Array.from({ length: count }, () => sentence(rng)).join(' ');
}

/** `count` paragraphs of the plain register (pretraining text). */
export function plainCorpus(rng: Rng, count: number): string[] {
  return Array.from({ length: count }, () => paragraph(rng, plainSentence));
}

/** `count` paragraphs of the pirate register (the style dataset). */
export function pirateCorpus(rng: Rng, count: number): string[] {
  return Array.from({ length: count }, () => paragraph(rng, pirateSentence));
}
