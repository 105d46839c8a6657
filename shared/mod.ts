export * from "./proto/mod.ts";
