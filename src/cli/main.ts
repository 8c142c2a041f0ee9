// The `shellac` command: one binary, several subcommands.
const [cmd] = process.argv.slice(2);
process.stderr.write(`shellac: subcommand '${cmd ?? ''}' is not implemented yet\n`);
process.exit(2);
