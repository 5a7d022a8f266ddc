void no_net(void) {}
