// docs/writing-a-protocol.md: its examples run here, inside a package that has the imports they use.
import { readmeTest } from '../../../tools/readme-check.ts';

readmeTest(new URL('..', import.meta.url), '../../docs/writing-a-protocol.md');
