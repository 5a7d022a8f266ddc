"""Trust classes of issue 10 (host-input precision) on small synthetic trees: each rule
decides what it can prove and leaves anything else host input."""

from __future__ import annotations

from pathlib import Path

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
