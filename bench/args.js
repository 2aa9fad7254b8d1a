// Command-line options of the bench scripts: `--name value`, or the fallback when absent.
exports.option = (name, fallback) => {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
