import { describe, expect, it } from '@jest/globals';
import { baseName, endpointFor, keyDir, parseEndpoint } from '../../../lib/artifacts/parse-endpoint.js';
import { InputError } from '../../../lib/errors.js';

describe('parseEndpoint', () => {
  it.each<[string, string, { bucket: string; key: string; style: string; origin: string }]>([
    [
      'path style (WeCube, MinIO)',
      'http://10.0.0.1:9000/wecube-artifacts/dir/pkg.tgz',
      { bucket: 'wecube-artifacts', key: 'dir/pkg.tgz', style: 'path', origin: 'http://10.0.0.1:9000' },
    ],
    [
      'https path style keeps its scheme',
      'https://minio.example.com/b/a.zip',
      { bucket: 'b', key: 'a.zip', style: 'path', origin: 'https://minio.example.com' },
    ],
    [
      'AWS path style',
      'https://s3.ap-southeast-1.amazonaws.com/my-bucket/k/p.tar.gz',
      { bucket: 'my-bucket', key: 'k/p.tar.gz', style: 'path', origin: 'https://s3.ap-southeast-1.amazonaws.com' },
    ],
    [
      'virtual-hosted with region',
      'https://my-bucket.s3.ap-southeast-1.amazonaws.com/k/p.tgz',
      { bucket: 'my-bucket', key: 'k/p.tgz', style: 'virtual', origin: 'https://my-bucket.s3.ap-southeast-1.amazonaws.com' },
    ],
    [
      'virtual-hosted legacy global',
      'https://my.dotted.bucket.s3.amazonaws.com/p.zip',
      { bucket: 'my.dotted.bucket', key: 'p.zip', style: 'virtual', origin: 'https://my.dotted.bucket.s3.amazonaws.com' },
    ],
    [
      'virtual-hosted dash-region',
      'https://b1.s3-eu-west-1.amazonaws.com/p.zip',
      { bucket: 'b1', key: 'p.zip', style: 'virtual', origin: 'https://b1.s3-eu-west-1.amazonaws.com' },
    ],
    ['s3:// URI', 's3://bucket/dir/pkg.tgz', { bucket: 'bucket', key: 'dir/pkg.tgz', style: 's3', origin: '' }],
    ['s3:// keys are taken literally', 's3://bucket/a%20b.tgz', { bucket: 'bucket', key: 'a%20b.tgz', style: 's3', origin: '' }],
    [
      'percent-encoding is decoded, + is a plus',
      'http://h/b/dir%20x/%E4%B8%AD+1.zip',
      { bucket: 'b', key: 'dir x/中+1.zip', style: 'path', origin: 'http://h' },
    ],
    ['an encoded slash is part of the key', 'http://h/b/a%2Fb.zip', { bucket: 'b', key: 'a/b.zip', style: 'path', origin: 'http://h' }],
    [
      'query and fragment are dropped',
      'https://b.s3.amazonaws.com/p.zip?X-Amz-Signature=abc#f',
      { bucket: 'b', key: 'p.zip', style: 'virtual', origin: 'https://b.s3.amazonaws.com' },
    ],
    ['surrounding spaces are ignored', '  http://h:1/b/k.zip ', { bucket: 'b', key: 'k.zip', style: 'path', origin: 'http://h:1' }],
  ])('%s', (_name, url, expected) => {
    expect(parseEndpoint(url)).toMatchObject(expected);
  });

  it.each([
    ['no scheme', '10.0.0.1:9000/b/k.zip'],
    ['ftp', 'ftp://h/b/k.zip'],
    ['no key', 'http://h/b'],
    ['a directory', 'http://h/b/dir/'],
    ['no bucket', 'http://h/'],
    ['s3:// without key', 's3://bucket'],
    ['bad percent-encoding', 'http://h/b/%E4%B8.zip'],
    ['credentials in the URL', 'http://user:pw@h/b/k.zip'],
    ['empty', ''],
  ])('refuses %s with upstream text', (_name, url) => {
    expect(() => parseEndpoint(url)).toThrow(InputError);
    expect(() => parseEndpoint(url)).toThrow(`S3 url ${url.trim()} is illegal.`);
  });
});

describe('endpointFor', () => {
  it.each<[string, string, { bucket: string; key: string }, string]>([
    ['a sibling in path style', 'http://10.0.0.1:9000/bucket/dir/pkg.zip', { bucket: 'bucket', key: 'dir/new.zip' }, 'http://10.0.0.1:9000/bucket/dir/new.zip'],
    [
      'another bucket in path style',
      'http://10.0.0.1:9000/bucket/dir/pkg.zip',
      { bucket: 'salt-tmp', key: 'new.zip' },
      'http://10.0.0.1:9000/salt-tmp/new.zip',
    ],
    ['encoded key segments', 'http://h/b/k.zip', { bucket: 'b', key: 'a b/中.zip' }, 'http://h/b/a%20b/%E4%B8%AD.zip'],
    ['virtual-hosted', 'https://b.s3.eu-west-1.amazonaws.com/k.zip', { bucket: 'other', key: 'x/y.zip' }, 'https://other.s3.eu-west-1.amazonaws.com/x/y.zip'],
    ['s3://', 's3://b/k.zip', { bucket: 'b2', key: 'd/n.zip' }, 's3://b2/d/n.zip'],
  ])('%s', (_name, base, location, expected) => {
    expect(endpointFor(parseEndpoint(base), location)).toBe(expected);
    expect(parseEndpoint(expected)).toMatchObject(location);
  });

  it('names the file and its directory', () => {
    const ref = parseEndpoint('http://h/b/dir/sub/pkg.tgz');
    expect(baseName(ref)).toBe('pkg.tgz');
    expect(keyDir(ref)).toBe('dir/sub/');
    expect(keyDir(parseEndpoint('http://h/b/pkg.tgz'))).toBe('');
  });
});
