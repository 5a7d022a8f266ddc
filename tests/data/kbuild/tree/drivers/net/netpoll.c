void netpoll(void) {}
