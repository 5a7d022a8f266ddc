void mydrv_m(void) {}
