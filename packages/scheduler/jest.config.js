module.exports = require('../../jest.waiting.js');
