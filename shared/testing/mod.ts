/**
 * Helpers for tests that start real processes on loopback.
 * @module
 */
export { Child, hasCommand, spawnCommand, spawnDeno } from "./child.ts";
