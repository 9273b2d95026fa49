/** Jest global teardown: removes the run's temporary directory made by tmpdir-setup.js. */
const fs = require('node:fs');

module.exports = async function tmpdirTeardown() {
  const dir = process.env.AIP_JEST_TMPDIR;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
};
