// Set up in each test file of the etcd jest project: API servers under test store in etcd.
process.env.PEAPOD_TEST_STORAGE = 'etcd';
