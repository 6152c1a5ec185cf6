#!/bin/bash -
# The sparse decoders against qemu-img: every disk below, read by
# sparse-cat (which walks vmdk_sparse_map and follows the parent
# chain), must equal "qemu-img convert -O raw" byte for byte.
#  - hosted sparse made by qemu-img: monolithicSparse, a child of it
#    with zeroed grains, twoGbMaxExtentSparse;
#  - vmfsSparse (COWD) and seSparse deltas synthesized by sparse-mkimage
#    over a VMFS flat base, in chains of 1 to 4 deltas.
#
# SPDX-License-Identifier: BSD-3-Clause

set -e
set -o pipefail

for t in qemu-img qemu-io cmp; do
    if ! command -v $t >/dev/null; then
        echo "$0: SKIP: $t is not installed (Debian: qemu-utils, diffutils)"
        exit 77
    fi
done

builddir=${abs_builddir:-$(cd "$(dirname "$0")" && pwd)}
cat=$builddir/sparse-cat
mkimage=$builddir/sparse-mkimage

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# compare DISK [OFFSET LENGTH]: a window needs qemu-img dd, whose skip
# and count do not work together in qemu 7.2: a window is either at the
# start of the disk or runs to its end.
compare ()
{
    if [ $# -eq 1 ]; then
        qemu-img convert -f vmdk -O raw "$1" qemu.raw
    elif [ $2 -eq 0 ]; then
        qemu-img dd -f vmdk -O raw bs=65536 count=$(($3 / 65536)) \
                 if="$1" of=qemu.raw
    else
        qemu-img dd -f vmdk -O raw bs=65536 skip=$(($2 / 65536)) \
                 if="$1" of=qemu.raw
    fi
    "$cat" "$@" > ours.raw
    if ! cmp qemu.raw ours.raw; then
        echo "FAIL: $* differs from qemu-img"
        exit 1
    fi
    echo "PASS: $* ($(stat -c %s ours.raw) bytes)"
}

# Hosted sparse, with a last grain of 64 of its 128 sectors.
qemu-img create -q -f vmdk -o subformat=monolithicSparse base.vmdk 5000K
qemu-io -f vmdk -c 'write -P 0x11 0 64k' -c 'write -P 0x22 1M 100k' \
        -c 'write -P 0x33 5119488 512' base.vmdk >/dev/null
compare base.vmdk
qemu-img create -q -f vmdk -o subformat=monolithicSparse,zeroed_grain=on \
         -b base.vmdk -F vmdk child.vmdk
qemu-io -f vmdk -c 'write -P 0x44 32k 64k' -c 'write -z 1M 64k' \
        -c 'write -P 0x55 2M 1k' child.vmdk >/dev/null
compare child.vmdk

qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse big.vmdk 2100M
qemu-io -f vmdk -c 'write -P 0x66 0 4k' -c 'write -P 0x77 2047M 2M' \
        -c 'write -P 0x88 2099M 1M' big.vmdk >/dev/null
compare big.vmdk 0 1048576
compare big.vmdk $((2046 * 1048576)) $((54 * 1048576))

# A VMFS flat base of 6 MiB and 3 sectors: seSparse's last grain is
# partial.
sectors=12291
head -c $((sectors * 512)) /dev/urandom > base-flat.vmdk

# descriptor NAME CID PARENT_CID CREATE_TYPE EXTENT [PARENT]
descriptor ()
{
    {
        echo "# Disk DescriptorFile"
        echo "version=1"
        echo "CID=$2"
        echo "parentCID=$3"
        echo "createType=\"$4\""
        [ -z "$6" ] || echo "parentFileNameHint=\"$6\""
        echo
        echo "# Extent description"
        echo "$5"
        echo
        echo "ddb.adapterType = \"lsilogic\""
    } > "$1"
}

descriptor base.vmdk 11111111 ffffffff vmfs \
    "RW $sectors VMFS \"base-flat.vmdk\""
compare base.vmdk

# delta NAME CID PARENT FORMAT GRAIN SPEC...
delta ()
{
    local name=$1 cid=$2 parent=$3 fmt=$4 grain=$5 type ext pcid
    shift 5
    case $fmt in
        cowd) type=vmfsSparse; ext=VMFSSPARSE; file=$name-delta.vmdk ;;
        sesparse) type=seSparse; ext=SESPARSE; file=$name-sesparse.vmdk ;;
    esac
    "$mkimage" $fmt $file $sectors $grain "$@"
    pcid=$(sed -n 's/^CID=//p' $parent)
    descriptor $name.vmdk $cid $pcid $type \
        "RW $sectors $ext \"$file\"" $parent
}

# Grains out of order in a spec are out of order in the file.  COWD
# zeroed grains (entry 1) are left out: qemu reads them as data at
# sector 1, which is not what ESXi means.
delta l1 22222222 base.vmdk cowd 1 \
      0-99=d:a1 5000-5100=d:a2 300-310=d:a3 200-250=d:a5 12290=d:a4
delta l2 33333333 l1.vmdk sesparse 8 \
      0-3=d:b1 10=z 11=u 600-700=d:b2 1536=d:b3 20-30=z 100=d:b4
delta l3 44444444 l2.vmdk cowd 8 \
      0=d:c1 700-800=d:c2 1500-1536=d:c3 40-45=d:c4
delta l4 55555555 l3.vmdk sesparse 8 \
      50-60=u 1000-1010=d:d1 5=z 1536=z 702=u 1200-1300=d:d2
for d in l1 l2 l3 l4; do
    compare $d.vmdk
done

# seSparse straight over the base, and COWD over seSparse.
delta m1 66666666 base.vmdk sesparse 8 0-6=d:e1 9-1536=d:e1 7=z 8=u
delta m2 77777777 m1.vmdk cowd 4 3000-3072=d:e2 1=d:e3
compare m1.vmdk
compare m2.vmdk

# An encrypted disk's extents are ciphertext: the chain refuses it, as
# base or as parent, rather than serve them as the disk.
descriptor enc.vmdk 88888888 ffffffff vmfs "RW $sectors VMFS \"base-flat.vmdk\""
echo 'ddb.iofilters = "vmwarevmcrypt"' >> enc.vmdk
descriptor enc-child.vmdk 99999999 88888888 vmfsSparse \
    "RW $sectors VMFSSPARSE \"m2-delta.vmdk\"" enc.vmdk
for d in enc.vmdk enc-child.vmdk; do
    if "$cat" $d > /dev/null 2> err; then
        echo "$0: FAIL: sparse-cat read the encrypted $d" >&2
        exit 1
    fi
    grep -q "enc.vmdk: the disk is encrypted" err || {
        echo "$0: FAIL: $d: $(cat err)" >&2
        exit 1
    }
done
