void mydrv_main(void) {}
