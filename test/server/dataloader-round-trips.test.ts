// A page of experiments with their checkpoints and artifacts (and the edges back to the
// experiment) costs a fixed number of database round trips, whatever the page size:
// counted with the driver's command monitoring (commandStarted events).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CommandStartedEvent } from 'mongodb';
import { gqlData, startTestServer, type TestServer } from './harness.ts';
import { CREATE_EXPERIMENT, runInput } from './fixtures.ts';

let server: TestServer;

before(async () => {
  server = await startTestServer({ monitorCommands: true });
  for (let i = 0; i < 50; i++) {
    await gqlData(server.url, CREATE_EXPERIMENT, { input: runInput({ name: `run-${String(i).padStart(2, '0')}`, checkpoints: 2 }) });
  }
});

after(async () => {
  await server?.close();
});

const PAGE_WITH_CHILDREN = /* GraphQL */ `
  query Page($first: Int!) {
    experiments(first: $first, sort: { field: NAME, direction: ASC }) {
      edges {
        node {
          id name
          dataset { files { path } }
          checkpoints { step artifacts { sha256 } experiment { name } }
          artifacts { sha256 kind checkpoint { step } experiment { name } }
        }
      }
    }
  }
`;

async function commandsFor(first: number): Promise<{ names: string[]; data: any }> {
  const names: string[] = [];
  const record = (event: CommandStartedEvent) => {
    if (event.commandName !== 'endSessions') names.push(event.commandName);
  };
  server.mongoClient.on('commandStarted', record);
  try {
    const data = await gqlData(server.url, PAGE_WITH_CHILDREN, { first });
    return { names, data };
  } finally {
    server.mongoClient.off('commandStarted', record);
  }
}

test('50 experiments with checkpoints and artifacts: one find per edge, same as for 5', async () => {
  const small = await commandsFor(5);
  const large = await commandsFor(50);

  const nodes = large.data.experiments.edges.map((e: any) => e.node);
  assert.equal(nodes.length, 50);
  for (const node of nodes) {
    assert.equal(node.checkpoints.length, 2);
    assert.equal(node.artifacts.length, 3);
    assert.equal(node.checkpoints[1].artifacts.length, 1);
    assert.equal(node.checkpoints[0].experiment.name, node.name);
    assert.equal(node.artifacts[2].experiment.name, node.name);
  }

  // experiments page, checkpoints by experiment, artifacts by experiment, artifacts by
  // checkpoint, checkpoints by id (artifact -> checkpoint), datasets by sha256; the edges
  // back to the experiment are served from the page (loader primed): no query at all.
  assert.deepEqual([...large.names].sort(), ['find', 'find', 'find', 'find', 'find', 'find']);
  assert.equal(large.names.length, small.names.length, `5 experiments: ${small.names.join(',')}; 50: ${large.names.join(',')}`);
});
