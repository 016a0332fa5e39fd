import { describe, expect, it } from '@jest/globals';
import type { FieldPacket } from 'mysql2';
import { DatabaseError, DatabaseUnavailableError } from '../../../lib/errors.js';
import { formatBatchOutput } from '../../../lib/mysql/format-batch-output.js';
import { shapeResult, toDatabaseError } from '../../../lib/mysql/mysql-session.js';

const field = (name: string) => ({ name }) as FieldPacket;
const header = (affectedRows: number, warningStatus = 0, serverStatus = 2) => ({
  affectedRows,
  warningStatus,
  serverStatus,
  insertId: 0,
  fieldCount: 0,
  info: '',
  changedRows: 0,
});

describe('shapeResult', () => {
  it('reads an OK packet: rows affected, warnings and the in-transaction flag', () => {
    expect(shapeResult(header(3, 1, 3), undefined)).toEqual({ sets: [], affectedRows: 3, warnings: 1, inTransaction: true });
    expect(shapeResult(header(0, 0, 2), undefined).inTransaction).toBe(false);
  });

  it('reads a result set with raw values as text, binary as hex and NULL as null', () => {
    const result = shapeResult([[Buffer.from('1'), null, Buffer.from([0xff, 0x00])]], [field('a'), field('b'), field('c')]);
    expect(result).toEqual({ sets: [{ columns: ['a', 'b', 'c'], rows: [['1', null, '0xFF00']] }], affectedRows: 0, warnings: 0 });
  });

  it('reads an empty result set with its columns', () => {
    expect(shapeResult([], [field('a')]).sets).toEqual([{ columns: ['a'], rows: [] }]);
  });

  it('reads the several result sets of a CALL and its final OK packet', () => {
    const result = shapeResult([[[Buffer.from('1')]], [[Buffer.from('2'), Buffer.from('3')]], header(0)], [
      [field('x')],
      [field('y'), field('z')],
      undefined,
    ] as unknown as FieldPacket[][]);
    expect(result.sets).toEqual([
      { columns: ['x'], rows: [['1']] },
      { columns: ['y', 'z'], rows: [['2', '3']] },
    ]);
    expect(result.inTransaction).toBe(false);
  });
});

describe('toDatabaseError', () => {
  it('keeps the server code and message, never the SQL text', () => {
    const driver = Object.assign(new Error("You have an error... near 'IDENTIFIED BY 'secret''"), {
      code: 'ER_PARSE_ERROR',
      errno: 1064,
      sqlState: '42000',
      sqlMessage: "You have an error in your SQL syntax near 'x'",
      sql: "CREATE USER 'u' IDENTIFIED BY 'secret'",
    });
    const error = toDatabaseError(driver, 'db:3306');
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error.message).toBe("db:3306: ERROR 1064 (42000): You have an error in your SQL syntax near 'x'");
    expect(error.message).not.toContain('secret');
    expect(error).toMatchObject({ errno: 1064, sqlState: '42000', serverCode: 'ER_PARSE_ERROR' });
  });

  it.each([
    ['ECONNREFUSED', 'ECONNREFUSED'],
    ['ETIMEDOUT', 'connect timed out'],
    ['PROTOCOL_SEQUENCE_TIMEOUT', 'timed out'],
  ])('makes %s a DatabaseUnavailableError', (code, text) => {
    const error = toDatabaseError(Object.assign(new Error('x'), { code }));
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error.message).toBe(text);
  });
});

describe('formatBatchOutput', () => {
  it('prints a header row and rows, tab-separated, NULL and special characters as the mysql client does (nothing for an empty set)', () => {
    const text = formatBatchOutput([
      {
        columns: ['id', 'note'],
        rows: [
          ['1', 'a\tb\nc\\d'],
          ['2', null],
        ],
      },
      { columns: ['n'], rows: [] },
    ]);
    expect(text).toBe('id\tnote\n1\ta\\tb\\nc\\\\d\n2\tNULL\n');
  });
});
