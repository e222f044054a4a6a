import { readmeTest } from '../../../tools/readme-check.ts';

readmeTest(new URL('..', import.meta.url));
