void balloon(void) {}
