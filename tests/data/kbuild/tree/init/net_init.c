void net_init(void) {}
