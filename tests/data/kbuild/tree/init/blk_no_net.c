void blk_no_net(void) {}
