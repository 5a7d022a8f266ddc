void also_lost(void) {}
