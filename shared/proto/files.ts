/**
 * The wire contract's `.proto` sources, imported as text so that `deno compile`
 * embeds them in the executable. Order matters only for readability: every file
 * is parsed into one protobufjs root and cross-file names resolve there.
 * @module
 */
import eraftpb from "@eraft/proto/eraftpb.proto" with { type: "text" };
import metapb from "@eraft/proto/metapb.proto" with { type: "text" };
import errorpb from "@eraft/proto/errorpb.proto" with { type: "text" };
import kvrpcpb from "@eraft/proto/kvrpcpb.proto" with { type: "text" };
import raft_cmdpb from "@eraft/proto/raft_cmdpb.proto" with { type: "text" };
import raft_serverpb from "@eraft/proto/raft_serverpb.proto" with { type: "text" };
import storepb from "@eraft/proto/storepb.proto" with { type: "text" };
import metaservicepb from "@eraft/proto/metaservicepb.proto" with { type: "text" };

/** File name → source text, for every file of the contract. */
export const PROTO_FILES: Readonly<Record<string, string>> = {
  "eraftpb.proto": eraftpb,
  "metapb.proto": metapb,
  "errorpb.proto": errorpb,
  "kvrpcpb.proto": kvrpcpb,
  "raft_cmdpb.proto": raft_cmdpb,
  "raft_serverpb.proto": raft_serverpb,
  "storepb.proto": storepb,
  "metaservicepb.proto": metaservicepb,
};
