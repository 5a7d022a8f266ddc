void nfs_root(void) {}
