/**
 * db/ — see README.md for status.
 * @module
 */
export {};
