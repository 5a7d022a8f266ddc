void cond_if(void) {}
