module.exports = { ...require('../../jest.preset.cjs'), displayName: 'user', rootDir: __dirname };
