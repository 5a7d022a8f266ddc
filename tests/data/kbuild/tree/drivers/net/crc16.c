void crc16(void) {}
