#!/usr/bin/env node
/** Placeholder until the app lands. */
export {};
