import { expect, it } from 'vitest';
import * as core from '@sessionpack/core';
it('resolves workspace packages to their sources', () => { expect(core.VERSION).toBe('0.1.0'); });
