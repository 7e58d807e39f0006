/** `node --import <this file>`: installs hooks.ts in the process (see there). */
import { register } from 'node:module';

register(new URL('./hooks.js', import.meta.url));
