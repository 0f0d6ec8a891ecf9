// The `taorl` command.
const [cmd] = process.argv.slice(2);
console.error(`taorl: command ${cmd ?? "(none)"} not available yet`);
process.exit(2);
