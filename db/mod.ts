/**
 * E-DB: the stateless Redis-compatible front end. Public surface:
 * - {@link startDbServer}: the RESP2/RESP3 TCP server over any {@link Backend};
 * - {@link Backend}, {@link CrossRegionError}: what a cluster backend implements;
 * - {@link MemoryBackend}: the in-process backend (tests, single node);
 * - {@link userKeyBoundary}: the split-key function meta uses to cut regions
 *   only between user keys;
 * - the RESP parser/writer and the key encoding, for tools and tests.
 * @module
 */
export {
  type DbLimits,
  type DbServer,
  type DbServerOptions,
  DEFAULT_LIMITS,
  startDbServer,
} from "./server.ts";
export {
  type Backend,
  type BatchOutcome,
  CF_DEFAULT,
  CrossRegionError,
  type Mutation,
  type Precondition,
  type RawPair,
} from "./backend.ts";
export { MemoryBackend, type MemoryBackendOptions } from "./memory_backend.ts";
export { Sweeper, type SweeperOptions, type TickResult } from "./sweeper.ts";
export {
  dataKey,
  dataPrefix,
  decodeRawKey,
  metaKey,
  scoreKey,
  USER_SPACE_END,
  USER_SPACE_START,
  userKeyBoundary,
} from "./encoding/keys.ts";
export { decodeMetadata, encodeMetadata, type Metadata, RedisType } from "./encoding/metadata.ts";
export { decodeOrderedFloat, encodeOrderedFloat } from "./encoding/float.ts";
export { type ParseResult, type ParserLimits, RequestParser } from "./resp/parser.ts";
export { encodeReply, type RespVersion } from "./resp/writer.ts";
export type { Reply } from "./resp/reply.ts";
export { COMMANDS } from "./commands/table.ts";
