// Loads state-machines/release.asl.json (the file that also runs in-process with `npm start` and in the
// tests) for serverless-step-functions: each Task's `arn:<partition>:lambda:...:function:<name>` resource
// becomes `Fn::GetAtt: [<name>, Arn]`, the function of that name in serverless.yml.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

function mapResources(node) {
  if (Array.isArray(node)) return node.map(mapResources);
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    const fn = key === 'Resource' && typeof value === 'string' ? /^arn:[a-z-]+:lambda:[^:]*:[^:]*:function:([A-Za-z0-9_-]+)$/.exec(value) : null;
    out[key] = fn ? { 'Fn::GetAtt': [fn[1], 'Arn'] } : mapResources(value);
  }
  return out;
}

module.exports = () => mapResources(JSON.parse(readFileSync(join(__dirname, '..', 'state-machines', 'release.asl.json'), 'utf8')));
