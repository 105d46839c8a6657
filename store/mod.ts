/**
 * store/ — E-STORE: the storage engine (store/engine) and, later, the
 * multi-Raft store node.
 * @module
 */
export {};
