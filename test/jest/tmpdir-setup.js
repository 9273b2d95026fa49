/**
 * Jest global setup: every test process gets one temporary directory for this run, removed by
 * tmpdir-teardown.js. aws-cdk-lib's App and cdk8s's Testing.app() synthesize into a fresh directory
 * under os.tmpdir() and never remove it; the platform stack's holds the kubectl and AWS CLI layer
 * assets (about 58 MB), so each run would otherwise leave gigabytes in /tmp.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

module.exports = async function tmpdirSetup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aip-jest-'));
  // Read by os.tmpdir() in the workers Jest starts after this, and in this process.
  process.env.AIP_JEST_TMPDIR = dir;
  process.env.TMPDIR = dir;
};
