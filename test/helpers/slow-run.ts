/** `node --import` this to slow the loading of `run` (see slow-run-hooks.ts). */
import { register } from 'node:module';

register('./slow-run-hooks.js', import.meta.url);
