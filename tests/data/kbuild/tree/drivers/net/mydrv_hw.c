void mydrv_hw(void) {}
