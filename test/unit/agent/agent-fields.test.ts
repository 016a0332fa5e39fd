import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { agentSshFields, parseMethod } from '../../../lib/agent/agent-fields.js';

describe('parseMethod', () => {
  it.each([
    [undefined, 'preinstalled'],
    ['', 'preinstalled'],
    ['local', 'bundle'],
    ['yum', 'repository'],
    ['APT', 'repository'],
    ['dnf', 'repository'],
    ['repository', 'repository'],
    ['bootstrap', 'bootstrap'],
    ['preinstalled', 'preinstalled'],
    ['curl|sh', undefined],
  ])('reads %j as %j (configured default preinstalled)', (value, method) => {
    expect(parseMethod(value, 'preinstalled')).toBe(method);
  });
});

describe('agent SSH fields', () => {
  const schema = z.object(agentSshFields('repository'));

  it('takes the seed example’s shape: no user means root, port 22, the configured method', () => {
    const item = schema.parse({ guid: '1234', seed: 'abc12345', host: '127.0.0.1', password: '251f54c3f5be75e171ae1eb516dbacd9' });
    expect(item).toMatchObject({ user: 'root', port: 22, method: 'repository' });
  });

  it.each([
    [{ host: '1.2.3.4;rm' }, 'host'],
    [{ host: "1.2.3.4'" }, 'host'],
    [{ user: 'a b' }, 'user'],
    [{ port: '22x' }, 'port'],
    [{ method: 'whatever' }, 'method'],
    [{ hostKeyFingerprint: 'MD5:aa' }, 'hostKeyFingerprint'],
    [{ password: '' }, 'password'],
    [{ guid: '' }, 'guid'],
  ])('rejects %j in field %s', (over, field) => {
    const result = schema.safeParse({ guid: 'g', host: '10.0.0.1', password: 'p', ...over });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path[0])).toContain(field);
  });
});
