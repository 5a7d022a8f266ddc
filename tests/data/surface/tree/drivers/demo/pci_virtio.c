// PCI config, virtio config space and rings, DMA, interrupts.
static irqreturn_t demo_irq(int irq, void *data);

static int demo_pci(struct pci_dev *pdev, struct virtqueue *vq, struct virtio_device *vdev,
		    u8 *ring)
{
	u16 vendor;
	unsigned int len;
	void *buf;
	u32 cap;
	dma_addr_t handle;
	void *shared;

	pci_read_config_word(pdev, 0, &vendor);
	if (vendor != 0x1af4)
		return -ENODEV;
	buf = virtqueue_get_buf(vq, &len);
	memset(buf, 0, len);
	cap = virtio_cread32(vdev, 4);
	vdev->config->get(vdev, 0, &cap, sizeof(cap));
	shared = dma_alloc_coherent(&pdev->dev, 4096, &handle, GFP_KERNEL);
	dma_sync_single_for_cpu(&pdev->dev, handle, 4096, DMA_FROM_DEVICE);
	ring[virtio16_to_cpu(vdev, 3)] = 1;
	return request_irq(pdev->irq, demo_irq, 0, "demo", NULL);
}
