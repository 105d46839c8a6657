/**
 * The wire contract at run time: protobufjs types built from `proto/*.proto`,
 * encode/decode helpers, and the type generator used by `tasks/gen_proto.ts`.
 * @module
 */
export {
  decodeMessage,
  decodeMessageView,
  encodeMessage,
  encodeMessageOwned,
  messageType,
  protoRoot,
  serviceType,
  toPlainMessage,
} from "./load.ts";
export { generateTypes } from "./codegen.ts";
export { PROTO_FILES } from "./files.ts";
