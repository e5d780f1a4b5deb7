// For packages whose tests mostly wait (on Docker, child processes and timers) rather than
// compute: two test files at a time, where jest's default on two cores is one.
module.exports = { ...require('./jest.preset.js'), maxWorkers: 2 };
