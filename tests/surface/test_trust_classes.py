"""Trust classes of issue 10 (host-input precision) on small synthetic trees: each rule
decides what it can prove and leaves anything else host input."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoscope.model.platform import Platform
from cocoscope.surface.catalogue import Trust
from cocoscope.surface.files import FileSpec
from cocoscope.surface.inventory import Inventory, Site
from cocoscope.surface.scan import scan


def _scan(tree: Path, files: dict[str, str], platform: str | None = None,
          specs: list[FileSpec] | None = None, config: str = "") -> Inventory:
    for rel, text in files.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text)
    specs = specs or [FileSpec(rel, "y") for rel in files if rel.endswith(".c")]
    return scan(tree, specs, platform=Platform(platform) if platform else None,
                use_cache=False, jobs=1, quiet=True, config=config)


def _at(inv: Inventory, line: int, primitive: str) -> Site:
    (s,) = [s for s in inv.sites if (s.line, s.primitive) == (line, primitive)]
    return s


def test_global_copy_destination_is_not_a_read(tmp_path: Path) -> None:
    inv = _scan(tmp_path, {"boot.c": """\
void f(void *data, char *buf)
{
	memcpy(&boot_params, data, sizeof(boot_params));
	strscpy((char *)&boot_params.hdr.sig, "Xen", 4);
	memcpy(buf, &boot_params.hdr, 16);
	memset(&boot_params.screen_info, 0, 8);
	use(&boot_params.screen_info);
}
"""})
    assert sorted(s.line for s in inv.sites if s.primitive == "boot_params") == [5, 7]


def test_function_scoped_guest_origin(tmp_path: Path) -> None:
    files = {"drivers/virtio/virtio_ring.c": """\
static void vring_unmap_one_split_indirect(struct vq *vq, struct vring_desc *desc)
{
	u16 flags = virtio16_to_cpu(vq->vdev, desc->flags);
	use(flags);
}
static int more_used_split(struct vq *vq)
{
	return virtio16_to_cpu(vq->vdev, vq->used->idx);
}
"""}
    inv = _scan(tmp_path, files, "tdx")
    assert _at(inv, 3, "virtio16_to_cpu").trust is Trust.GUEST
    assert "indirect descriptor table" in _at(inv, 3, "virtio16_to_cpu").trust_note
    assert _at(inv, 8, "virtio16_to_cpu").trust is Trust.HOST


CPUID = """\
#define DEMO_LEAF 0x16
void a(struct c *c)
{
	unsigned int eax, ebx, ecx, edx, op;

	if (c->amd)
		op = 0x8000001d;
	else
		op = DEMO_LEAF;
	do {
		cpuid_count(op, 0, &eax, &ebx, &ecx, &edx);
	} while (eax);
}
void b(void)
{
	unsigned int eax, ebx, ecx, edx;

	eax = 0x80000000;
	ecx = 0;
	native_cpuid(&eax, &ebx, &ecx, &edx);
	if (eax < 0x8000001f)
		return;
	native_cpuid(&eax, &ebx, &ecx, &edx);
	eax = 0x40000000;
	native_cpuid(&eax, &ebx, &ecx, &edx);
}
void c(unsigned int leaf, unsigned int n)
{
	unsigned int eax, ebx, ecx, edx, op = 4;

	cpuid_count(leaf, 0, &eax, &ebx, &ecx, &edx);
	op += n;
	cpuid_count(op, 0, &eax, &ebx, &ecx, &edx);
	eax = 1;
again:
	native_cpuid(&eax, &ebx, &ecx, &edx);
	if (ebx)
		goto again;
}
"""


def test_cpuid_leaf_in_a_local(tmp_path: Path) -> None:
    tdx = _scan(tmp_path, {"leaf.c": CPUID}, "tdx")
    held = _at(tdx, 11, "cpuid_count")  # op: 0x8000001d or DEMO_LEAF, nothing else
    assert held.trust is Trust.TRUSTED and "0x16 or 0x8000001d (held in op" in held.trust_note
    assert _at(tdx, 20, "native_cpuid").trust is Trust.TRUSTED
    assert _at(tdx, 20, "native_cpuid").leaf == 0x80000000
    assert _at(tdx, 23, "native_cpuid").trust is Trust.HOST  # eax: the previous call's output
    assert _at(tdx, 25, "native_cpuid").trust is Trust.HOST  # hypervisor leaf: the VMM's
    assert _at(tdx, 31, "cpuid_count").trust is Trust.HOST  # a parameter
    assert _at(tdx, 33, "cpuid_count").trust is Trust.HOST  # op += n
    assert _at(tdx, 36, "native_cpuid").trust is Trust.HOST  # a label: another way in


DMA_WRAPPERS = """\
static inline void
sync_for_cpu(struct device *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir)
{
	if (dev)
		dma_sync_single_for_cpu(dev, addr, size, dir);
}

static void unmap(struct device *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir)
{
	dma_unmap_single(dev, addr, size, dir);
}

static void unmap_taken(struct device *dev, dma_addr_t a, enum dma_data_direction dir)
{
	dma_unmap_single(dev, a, 4, dir);
}

static void unmap_changed(struct device *dev, dma_addr_t a, enum dma_data_direction dir)
{
	dir = DMA_FROM_DEVICE;
	dma_unmap_single(dev, a, 4, dir);
}

void unmap_global(struct device *dev, dma_addr_t a, enum dma_data_direction dir)
{
	dma_unmap_single(dev, a, 4, dir);
}

void callers(struct device *dev, dma_addr_t a, void (**hook)(void))
{
	sync_for_cpu(dev, a, 8, DMA_TO_DEVICE);
	sync_for_cpu(dev, a, 16, (DMA_TO_DEVICE));
	unmap(dev, a, 8, DMA_TO_DEVICE);
	unmap(dev, a, 8, DMA_BIDIRECTIONAL);
	unmap_taken(dev, a, DMA_TO_DEVICE);
	*hook = (void *)unmap_taken;
	unmap_changed(dev, a, DMA_TO_DEVICE);
	unmap_global(dev, a, DMA_TO_DEVICE);
}
"""


def test_dma_direction_parameter_of_a_static_wrapper(tmp_path: Path) -> None:
    for platform in ("tdx", "snp"):
        inv = _scan(tmp_path, {"fc.c": DMA_WRAPPERS}, platform)
        sync = _at(inv, 5, "dma_sync_single_for_cpu")
        assert sync.trust is Trust.GUEST
        assert "all 2 calls of static sync_for_cpu in this file pass DMA_TO_DEVICE" in \
            sync.trust_note
        assert _at(inv, 10, "dma_unmap_single").trust is Trust.HOST  # one caller: BIDIRECTIONAL
        assert _at(inv, 15, "dma_unmap_single").trust is Trust.HOST  # address taken: unseen callers
        assert _at(inv, 21, "dma_unmap_single").trust is Trust.HOST  # the body changes dir
        assert _at(inv, 26, "dma_unmap_single").trust is Trust.HOST  # not static
    assert _at(_scan(tmp_path, {"fc.c": DMA_WRAPPERS}), 5,
               "dma_sync_single_for_cpu").trust is Trust.HOST  # no platform: no trust rules


def test_a_file_own_function_named_like_a_primitive(tmp_path: Path) -> None:
    # tdx.c's static read_msr shares KVM's primitive name; a call in tdx.c runs tdx.c's body.
    files = {"arch/x86/coco/tdx/tdx.c": """\
static int read_msr(struct pt_regs *regs, struct ve_info *ve)
{
	struct tdx_module_args args = { .r12 = regs->cx };

	if (__tdx_hypercall(&args))
		return -EIO;
	regs->ax = args.r11;
	return 0;
}

static int handle(struct pt_regs *regs, struct ve_info *ve)
{
	return read_msr(regs, ve);
}
""", "arch/x86/kvm/x86.c": """\
unsigned long f(void)
{
	return read_msr(MSR_FS_BASE);
}
"""}
    snp = _scan(tmp_path, files, "snp")
    own = [s for s in snp.sites if s.file.endswith("tdx.c") and s.line == 13]
    assert [s.trust for s in own] == [Trust.ABSENT]
    assert "read_msr is defined in arch/x86/coco/tdx/tdx.c" in own[0].trust_note
    kvm = [s for s in snp.sites if s.file.endswith("x86.c")]
    assert [s.trust for s in kvm] == [Trust.HOST]  # KVM's read_msr: the primitive
    tdx = _scan(tmp_path, files, "tdx")
    assert [s.trust for s in tdx.sites if s.file.endswith("tdx.c") and s.line == 13] == \
        [Trust.HOST]  # on TDX the TDVMCALL is the host's answer


def test_syntax_answers_are_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A warm scan parses no file again for trust: the answers are in the cache.
    import cocoscope.surface.scan as scan_module
    from cocoscope.surface import file_work
    tree = tmp_path / "tree"
    for rel, text in {"fc.c": DMA_WRAPPERS, "leaf.c": CPUID}.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text)
    parsed: list[str] = []
    real = file_work.parse_again

    def counting(ctx: file_work.FileContext, rel: str) -> object:
        parsed.append(rel)
        return real(ctx, rel)

    monkeypatch.setattr(scan_module, "parse_again", counting)
    specs = [FileSpec("fc.c", "y"), FileSpec("leaf.c", "y")]

    def run() -> list[tuple[int, Trust, str]]:
        inv = scan(tree, specs, platform=Platform.TDX, cache_dir=tmp_path / "cache", jobs=1,
                   quiet=True)
        return [(s.line, s.trust, s.trust_note) for s in inv.sites]

    cold = run()
    assert sorted(set(parsed)) == ["fc.c", "leaf.c"]
    parsed.clear()
    assert run() == cold and parsed == []
