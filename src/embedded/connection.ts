// One client connection: splits the byte stream into messages, runs their commands one after
// another and writes the replies. A message that cannot be parsed closes this connection only.
import type { Socket } from 'node:net';
import { checkMessageLength, encodeOpMsgReply, encodeOpReply, MalformedMessageError, OpCode, parseMessage } from './wire-protocol.ts';

export type CommandRunner = (message: ReturnType<typeof parseMessage>) => Promise<Uint8Array>;

export function serveConnection(socket: Socket, runCommand: CommandRunner, log: (line: string) => void): void {
  const chunks: Buffer[] = [];
  let buffered = 0;
  let queue = Promise.resolve();
  socket.setNoDelay(true);

  const takeMessages = (): Buffer[] => {
    const messages: Buffer[] = [];
    while (buffered >= 4) {
      if (chunks[0].length < 4) {
        const joined = Buffer.concat(chunks);
        chunks.length = 0;
        chunks.push(joined);
      }
      const declared = checkMessageLength(chunks[0].readInt32LE(0));
      if (buffered < declared) break;
      // Join only once the whole message is here: a 48 MB insert arrives in many chunks.
      const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      messages.push(all.subarray(0, declared));
      chunks.length = 0;
      buffered = all.length - declared;
      if (buffered > 0) chunks.push(all.subarray(declared));
    }
    return messages;
  };

  const handle = async (message: Buffer): Promise<void> => {
    if (socket.destroyed) return;
    const command = parseMessage(message);
    const reply = await runCommand(command);
    if (command.noReply || socket.destroyed) return;
    const frames = command.opCode === OpCode.QUERY ? encodeOpReply(command.requestId, reply) : encodeOpMsgReply(command.requestId, reply);
    for (const frame of frames) socket.write(frame);
  };

  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    buffered += chunk.length;
    let messages: Buffer[];
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
