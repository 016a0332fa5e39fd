import { z } from 'zod';
import type { Config } from '../config.js';
import { InputError, OperationDisabledError } from '../errors.js';
import { commonFields, looseString, requiredString } from '../input/fields.js';
import { defineOperation, eachItem } from '../wecube/operation.js';
import type { Lowstate } from './build-lowstate.js';
import type { SaltClient } from './salt-client.js';

const CLIENTS = ['local', 'local_async', 'runner', 'wheel'] as const;

/**
 * salt-api/call: a raw lowstate passthrough for operators. Off unless SALT_API_CALL_ENABLED, because it
 * runs anything the salt-api user may run; `local` targets are a minion id list, never a glob. The switch is
 * read per call, not when the operation is built (the config may be parsed only on the first call).
 */
export const saltApiCall = (deps: { salt: () => SaltClient; config: Pick<Config, 'saltApiCallEnabled'> }) =>
  defineOperation({
    plugin: 'salt-api',
    action: 'call',
    summary: 'Raw salt-api lowstate call (disabled unless SALT_API_CALL_ENABLED=true)',
    input: z.object({
      ...commonFields,
      client: requiredString().pipe(z.enum(CLIENTS)),
      target: looseString(),
      function: requiredString().refine((v) => /^[A-Za-z_][\w]*\.[\w.]+$/.test(v), { message: 'not a salt function name' }),
      args: z.array(z.union([z.string(), z.number(), z.boolean()]).transform(String)).nullish(),
      kwargs: z.record(z.string(), z.unknown()).nullish(),
    }),
    output: z.object({ detail: z.string() }),
    run: eachItem(async (item, ctx) => {
      if (!deps.config.saltApiCallEnabled) {
        throw new OperationDisabledError('salt-api/call is disabled; set SALT_API_CALL_ENABLED=true to allow raw salt calls');
      }
      const chunk: Lowstate = { client: item.client, fun: item.function };
      if (item.client === 'local' || item.client === 'local_async') {
        if (!item.target) throw new InputError('Parameter target can not empty.');
        chunk.tgt = item.target
          .split(/[,|]/)
          .map((t) => t.trim())
          .filter(Boolean);
        chunk.tgt_type = 'list';
        if (item.client === 'local') chunk.full_return = true;
      }
      if (item.args?.length) chunk.arg = item.args;
      if (item.kwargs) {
        if (item.client === 'local' || item.client === 'local_async') chunk.kwarg = item.kwargs;
        else Object.assign(chunk, { ...item.kwargs, client: chunk.client, fun: chunk.fun });
      }
      const [ret] = await deps.salt().lowstate([chunk], { signal: ctx.signal });
      return { detail: JSON.stringify({ return: [ret] }) };
    }),
  });
