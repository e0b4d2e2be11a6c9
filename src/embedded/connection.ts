// One client connection: splits the byte stream into messages, runs their commands one after
// another and writes the replies. A message that cannot be parsed closes this connection only.
import type { Socket } from 'node:net';
import { checkMessageLength, detachFromMessageBuffer, encodeOpMsgReply, encodeOpReply, MalformedMessageError, OpCode, parseMessage } from './wire-protocol.ts';

export type CommandRunner = (message: ReturnType<typeof parseMessage>) => Promise<Uint8Array>;

/**
 * Messages at least this large are assembled in a buffer the connection keeps and reuses. On
 * this kind of machine the first touch of fresh memory costs about 10 ms per MB, far more than
 * the copy itself, and a large insert arrives as one message of up to 48 MB.
 */
const REUSED_ASSEMBLY_MIN_BYTES = 256 * 1024;

export function serveConnection(socket: Socket, runCommand: CommandRunner, log: (line: string) => void): void {
  const chunks: Buffer[] = [];
  let buffered = 0;
  let queue = Promise.resolve();
  let assembly: Buffer | undefined;
  let assemblyBusy = false;
  socket.setNoDelay(true);

  /** Take the first `length` buffered bytes as one message. `reused`: it lives in `assembly`. */
  const takeBytes = (length: number): { message: Buffer; reused: boolean } => {
    buffered -= length;
    if (chunks[0].length >= length) {
      const message = chunks[0].subarray(0, length);
      if (chunks[0].length === length) chunks.shift();
      else chunks[0] = chunks[0].subarray(length);
      return { message, reused: false };
    }
    let target: Buffer;
    let reused = false;
    if (length >= REUSED_ASSEMBLY_MIN_BYTES && !assemblyBusy) {
      if (!assembly || assembly.length < length) assembly = Buffer.allocUnsafe(length);
      target = assembly;
      reused = assemblyBusy = true;
    } else {
      target = Buffer.allocUnsafe(length);
    }
    let filled = 0;
    while (filled < length) {
      const chunk = chunks[0];
      const take = Math.min(chunk.length, length - filled);
      chunk.copy(target, filled, 0, take);
      filled += take;
      if (take === chunk.length) chunks.shift();
      else chunks[0] = chunk.subarray(take);
    }
    return { message: target.subarray(0, length), reused };
  };

  const takeMessages = (): { message: Buffer; reused: boolean }[] => {
    const messages: { message: Buffer; reused: boolean }[] = [];
    while (buffered >= 4) {
      if (chunks[0].length < 4) {
        const joined = Buffer.concat(chunks);
        chunks.length = 0;
        chunks.push(joined);
      }
      const declared = checkMessageLength(chunks[0].readInt32LE(0));
      if (buffered < declared) break;
      messages.push(takeBytes(declared));
    }
    return messages;
  };

  const handle = async ({ message, reused }: { message: Buffer; reused: boolean }): Promise<void> => {
    try {
      if (socket.destroyed) return;
      const command = parseMessage(message);
      // Values that would still point into the reused buffer once the next message arrives.
      if (reused) detachFromMessageBuffer(command.body);
      const reply = await runCommand(command);
      if (command.noReply || socket.destroyed) return;
      // Replies leave in request order (the queue runs one command at a time) with flagBits 0:
      // never moreToCome, which would tell the driver another reply follows. A reply's pieces
      // go out as one writev.
      const frames = command.opCode === OpCode.QUERY ? encodeOpReply(command.requestId, reply) : encodeOpMsgReply(command.requestId, reply);
      socket.cork();
      for (const frame of frames) socket.write(frame);
      socket.uncork();
    } finally {
      // The command's journal record (which holds slices of the message) is on disk by now.
      if (reused) assemblyBusy = false;
    }
  };

  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    buffered += chunk.length;
    let messages: ReturnType<typeof takeMessages>;
    try {
      messages = takeMessages();
    } catch (err) {
      log(`embedded mongo: closing connection from ${socket.remoteAddress}:${socket.remotePort}: ${(err as Error).message}`);
      socket.destroy();
      return;
    }
    for (const message of messages) {
      queue = queue.then(() => handle(message)).catch((err: unknown) => {
        const reason = err instanceof MalformedMessageError ? err.message : `internal error: ${(err as Error).stack ?? err}`;
        log(`embedded mongo: closing connection from ${socket.remoteAddress}:${socket.remotePort}: ${reason}`);
        socket.destroy();
      });
    }
  });
  socket.on('error', () => socket.destroy());
}
