// Reads that load the children of many parents at once (for the per-request loaders) ask
// for everything in the first reply: the caller wants all of it, and the default first
// batch (101 documents) would add getMore round trips as pages grow. Replies stay under
// MongoDB's 16 MiB message limit regardless; past it the driver continues with getMore.
export const BATCH_READ_SIZE = 100_000;
