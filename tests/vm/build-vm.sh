#!/usr/bin/env bash
# build-vm.sh OUTDIR
#
# Builds the Debian 12 (bookworm) guest used by the kvmtune VM tests: systemd 252
# as PID 1, pure cgroup v2, booted by run-vm.sh under QEMU TCG.
#
# Result in OUTDIR (only these are needed to boot):
#   vmlinux     uncompressed kernel ELF, booted through its PVH entry point
#               (skips the slow xz decompression under TCG); absent if it
#               could not be extracted, then run-vm.sh boots vmlinuz
#   vmlinuz     Debian's compressed bzImage
#   initrd.img  busybox initramfs: insmods virtio/ext4/9p, mounts /dev/vda,
#               switch_root to systemd
#   root.img    ext4 image of a minbase bookworm root filesystem
#   kver        kernel release
#   build.hash  sha256 of this script, written last: it marks a complete build
#
# If OUTDIR already holds a complete build made by this exact script, nothing is
# rebuilt. FORCE=1 rebuilds anyway; KEEP_WORK=1 keeps OUTDIR/work (rootfs, debs).
# Needs root and Debian's package archive. Installs its own host packages and
# changes nothing else on the host (the kernel .deb is unpacked, not installed).
set -euo pipefail
export LC_ALL=C   # byte-wise grep on the bzImage; '.' in $EPOCHREALTIME

SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

HOST_PKGS=(mmdebstrap qemu-system-x86 e2fsprogs xz-utils)
GUEST_PKGS=(systemd systemd-sysv dbus udev kmod procps qemu-system-x86 numactl
            systemd-container libyaml-0-2 libnuma1 libsystemd0 libcgroup2
            libjson-c5 libxml2 python3 util-linux meson ninja-build
            # the metrics' real consumers (test-effect-live.py runs its own node_exporter)
            prometheus prometheus-node-exporter python3-prometheus-client)

# Kernel module directories copied into the guest (the whole set is ~400 MB).
MODULE_DIRS=(kernel/arch kernel/block kernel/crypto kernel/fs kernel/lib
             kernel/mm kernel/virt kernel/net/9p kernel/drivers/virtio
             kernel/drivers/block kernel/drivers/char kernel/drivers/md
             kernel/drivers/nvdimm kernel/drivers/input
             kernel/net/unix) # unix_diag: kvmtune proves whose a QMP socket is
# Modules the initramfs loads (plus their dependencies, from modules.dep).
# Debian builds all of these as modules. crc32c is requested by ext4 at mount
# time through the crypto API, which the initramfs cannot autoload.
INITRD_MODULES=(virtio_pci virtio_blk crc32c_generic ext4 9pnet_virtio 9p)

# Boot-time units the tests do not need; each process spawn costs 50-70 ms
# under TCG. systemd-logind, journald, udev and dbus stay.
MASK_UNITS=(getty@tty1.service serial-getty@ttyS0.service console-getty.service
            e2scrub_reap.service e2scrub_all.timer fstrim.timer
            apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer
            systemd-tmpfiles-clean.timer systemd-firstboot.service
            systemd-pstore.service modprobe@drm.service modprobe@fuse.service
            modprobe@efi_pstore.service sys-kernel-debug.mount
            modprobe@dm_mod.service modprobe@loop.service
            modprobe@configfs.service sys-kernel-config.mount
            sys-kernel-tracing.mount sys-fs-fuse-connections.mount
            proc-sys-fs-binfmt_misc.automount systemd-journal-flush.service
            systemd-update-utmp.service systemd-update-utmp-runlevel.service
            prometheus.service prometheus-node-exporter.service
            prometheus-node-exporter-apt.timer prometheus-node-exporter-smartmon.timer
            prometheus-node-exporter-nvme.timer
            prometheus-node-exporter-ipmitool-sensor.timer
            prometheus-node-exporter-mellanox-hca-temp.timer)
# Modules udev would autoload for emulated hardware the tests do not use.
# kvm: the guest has no VMX under TCG, so /dev/kvm could not work anyway.
BLACKLIST_MODULES=(floppy pcspkr psmouse kvm kvm_intel kvm_amd)

T0=${EPOCHREALTIME/./}
log() {
    local now=${EPOCHREALTIME/./}
    printf '[build-vm %5ds] %s\n' $(((now - T0) / 1000000)) "$*" >&2
}
die() { echo "build-vm: error: $*" >&2; exit 1; }

[[ $# -eq 1 ]] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || die "must run as root (apt-get, mmdebstrap, chroot)"

OUTDIR=$(realpath -m -- "$1")
SELF=$(realpath -- "${BASH_SOURCE[0]}")
HASH=$(sha256sum -- "$SELF")
HASH=${HASH%% *}
WORK=$OUTDIR/work

# --- host packages (also needed to boot a cached image) ----------------------
apt_updated=0
apt_update() {
    if [[ $apt_updated -eq 0 ]]; then
        log "apt-get update"
        apt-get update -qq
        apt_updated=1
    fi
}

missing=()
for p in "${HOST_PKGS[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ $status == installed ]] || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    apt_update
    log "installing host packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- cache check --------------------------------------------------------------
mkdir -p "$OUTDIR"
exec 9>"$OUTDIR/.lock"
flock 9   # one build per OUTDIR at a time

is_complete() {
    [[ -f $OUTDIR/build.hash && $(<"$OUTDIR/build.hash") == "$HASH" ]] &&
        [[ -s $OUTDIR/vmlinuz && -s $OUTDIR/initrd.img &&
           -s $OUTDIR/root.img && -s $OUTDIR/kver ]]
}
if [[ ${FORCE:-0} != 1 ]] && is_complete; then
    log "reusing complete image in $OUTDIR (kernel $(<"$OUTDIR/kver"))"
    exit 0
fi

# --- fresh build --------------------------------------------------------------
log "building guest image in $OUTDIR"
rm -f "$OUTDIR/build.hash"
# mmdebstrap runs in a private mount namespace (below), so nothing can still be
# mounted under $WORK; --one-file-system is a second guard for rm.
rm -rf --one-file-system "$WORK"
mkdir -p "$WORK/debs"

apt_update
# linux-image-amd64 is the metapackage; it depends on the current ABI package.
kpkg=$(apt-cache depends linux-image-amd64 |
       awk '$1 == "Depends:" && $2 ~ /^linux-image-/ && !n++ { print $2 }')
[[ -n $kpkg ]] || die "cannot find the kernel package behind linux-image-amd64"
KVER=${kpkg#linux-image-}
log "downloading $kpkg and busybox-static"
# Sandbox::User=root: the _apt user cannot write to $WORK/debs.
(cd "$WORK/debs" &&
    apt-get -qq -o APT::Sandbox::User=root download "$kpkg" busybox-static)
log "unpacking (not installing) the kernel and busybox"
dpkg-deb -x "$WORK"/debs/linux-image-*.deb "$WORK/kernel"
dpkg-deb -x "$WORK"/debs/busybox-static_*.deb "$WORK/busybox"
BZIMAGE=$WORK/kernel/boot/vmlinuz-$KVER
KMODS=$WORK/kernel/lib/modules/$KVER
BUSYBOX=$WORK/busybox/bin/busybox
[[ -s $BZIMAGE && -d $KMODS && -x $BUSYBOX ]] || die "unexpected package layout"

# A bzImage is real-mode setup code, a decompressor and the compressed ELF
# kernel. Debian compresses with xz: find each xz stream magic (FD 37 7A 58 5A
# 00), decompress the first stream that yields an ELF file. qemu boots that ELF
# through the PVH entry point (CONFIG_PVH=y).
extract_vmlinux() {
    local bz=$1 out=$2 off magic
    local -a offsets
    mapfile -t offsets < <(grep -aboP '\xFD7zXZ\x00' "$bz" | cut -d: -f1)
    for off in "${offsets[@]}"; do
        tail -c +"$((off + 1))" "$bz" >"$out.xz"
        # --single-stream ignores the decompressor code after the stream
        if xz -dcq --single-stream "$out.xz" >"$out" 2>/dev/null; then
            magic=$(od -An -tx1 -N4 "$out")
            if [[ ${magic// /} == 7f454c46 ]]; then
                rm -f "$out.xz"
                fallocate --dig-holes "$out" 2>/dev/null || true  # sparse: ~half on disk
                return 0
            fi
        fi
    done
    rm -f "$out" "$out.xz"
    return 1
}
log "extracting vmlinux from the bzImage"
have_vmlinux=0
if extract_vmlinux "$BZIMAGE" "$WORK/vmlinux"; then
    have_vmlinux=1
else
    log "WARNING: could not extract vmlinux; run-vm.sh will boot the bzImage (5-7 s slower)"
fi

# --- root filesystem -----------------------------------------------------------
ROOTFS=$WORK/rootfs
log "mmdebstrap $SUITE (${#GUEST_PKGS[@]} extra packages)"
include=$(IFS=,; echo "${GUEST_PKGS[*]}")
# A private mount namespace: the /proc, /sys, /dev mounts mmdebstrap makes in
# the chroot can never leak to (or linger on) the host.
unshare --mount --propagation private \
    mmdebstrap --quiet --mode=root --variant=minbase --format=directory \
    --include="$include" \
    --aptopt='Acquire::Retries "3"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    "$SUITE" "$ROOTFS" \
    "deb $MIRROR $SUITE main" \
    "deb $MIRROR $SUITE-updates main" \
    "deb $SECURITY_MIRROR $SUITE-security main"

log "configuring the root filesystem"
# /lib is a symlink to usr/lib in bookworm (merged /usr).
GMODS=$ROOTFS/usr/lib/modules/$KVER
mkdir -p "$GMODS"
cp -a "$KMODS"/modules.* "$GMODS/"
for d in "${MODULE_DIRS[@]}"; do
    [[ -d $KMODS/$d ]] && (cd "$KMODS" && cp -a --parents "$d" "$GMODS/")
done
chroot "$ROOTFS" depmod -a "$KVER"   # the host may not have kmod
chroot "$ROOTFS" systemd-hwdb update --usr

# Fixed identity, so no first-boot logic runs (every boot starts from the same
# image, because run-vm.sh uses snapshot=on).
tr -d - </proc/sys/kernel/random/uuid >"$ROOTFS/etc/machine-id"
echo kvmtune-vm >"$ROOTFS/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tkvmtune-vm\n::1\tlocalhost\n' >"$ROOTFS/etc/hosts"
echo '/dev/vda / ext4 rw,noatime 0 0' >"$ROOTFS/etc/fstab"
mkdir -p "$ROOTFS/mnt/host" "$ROOTFS/etc/systemd/journald.conf.d"
# Journal in /run only (so systemd-journal-flush is masked below).
printf '[Journal]\nStorage=volatile\n' >"$ROOTFS/etc/systemd/journald.conf.d/volatile.conf"
printf 'blacklist %s\n' "${BLACKLIST_MODULES[@]}" >"$ROOTFS/etc/modprobe.d/kvmtune-vm.conf"

# The harness: once the system is up, mount the 9p share, run its run.sh,
# store the exit code in rc, and power off.
install -m 0755 /dev/stdin "$ROOTFS/usr/local/sbin/kvmtune-harness" <<'EOF'
#!/bin/bash
# Started by harness.service (kernel command line harness=1).
set -u
share=/mnt/host
up() { cut -d' ' -f1 /proc/uptime; }
if ! mountpoint -q "$share" &&
   ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 host "$share"; then
    echo "harness: cannot mount the 9p share 'host'" >&2
    exit 1   # FailureAction=poweroff-force
fi
cd "$share" || exit 1
echo "harness: run.sh starts at uptime $(up) s"
rc=0
if [[ -x run.sh ]]; then
    ./run.sh >out.log 2>&1 </dev/null || rc=$?
else
    bash run.sh >out.log 2>&1 </dev/null || rc=$?
fi
echo "harness: run.sh exited with $rc at uptime $(up) s"
# rc appears atomically: run-vm.sh never reads a half-written file
echo "$rc" >rc.tmp && mv -f rc.tmp rc || exit 1
sync
EOF

cat >"$ROOTFS/etc/systemd/system/harness.service" <<'EOF'
[Unit]
Description=kvmtune VM test harness (runs run.sh from the 9p share, then powers off)
ConditionKernelCommandLine=harness=1
# multi-user.target wants this unit, but the unit must start after that target
# is reached. Default dependencies would order it before the target (a cycle),
# so they are off and the relevant ones are listed by hand.
DefaultDependencies=no
Requires=sysinit.target
After=sysinit.target basic.target multi-user.target
Conflicts=shutdown.target
Before=shutdown.target
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
# exec, not oneshot: the unit counts as started at once, so the boot
# transaction ends and "systemctl is-system-running" reports "running"
# while run.sh is still executing.
Type=exec
ExecStart=/usr/local/sbin/kvmtune-harness
Environment=HOME=/root
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
EOF
mkdir -p "$ROOTFS/etc/systemd/system/multi-user.target.wants"
ln -sf ../harness.service "$ROOTFS/etc/systemd/system/multi-user.target.wants/harness.service"
for u in "${MASK_UNITS[@]}"; do
    ln -sf /dev/null "$ROOTFS/etc/systemd/system/$u"
done
# ConditionNeedsUpdate= units (ldconfig, hwdb, catalog...) would run on every
# boot of the snapshot unless /etc and /var look newer than /usr.
touch "$ROOTFS/etc/.updated" "$ROOTFS/var/.updated"
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin

log "writing root.img (mkfs.ext4 -d)"
rm -f "$WORK/root.img"
truncate -s 2G "$WORK/root.img"
mkfs.ext4 -q -F -L kvmtune-root -d "$ROOTFS" "$WORK/root.img"

# --- initramfs -------------------------------------------------------------------
log "building the initramfs"
# Load order: for each module, its modules.dep dependencies in reverse order
# (as modprobe does), then the module itself; every file once.
mapfile -t initrd_mods < <(awk -v want="${INITRD_MODULES[*]}" '
    {
        path = $1; sub(/:$/, "", path)
        name = path; sub(/.*\//, "", name); sub(/\.ko(\.[a-z]+)?$/, "", name)
        gsub(/-/, "_", name)
        file[name] = path; ndeps[name] = NF - 1
        for (i = 2; i <= NF; i++) dep[name, i - 1] = $i
    }
    END {
        n = split(want, w, " ")
        for (k = 1; k <= n; k++) {
            m = w[k]
            if (!(m in file)) { print "no module " m > "/dev/stderr"; exit 1 }
            for (i = ndeps[m]; i >= 1; i--)
                if (!(dep[m, i] in seen)) { seen[dep[m, i]] = 1; print dep[m, i] }
            if (!(file[m] in seen)) { seen[file[m]] = 1; print file[m] }
        }
    }' "$GMODS/modules.dep")
[[ ${#initrd_mods[@]} -ge ${#INITRD_MODULES[@]} ]] || die "module list resolution failed"

IRFS=$WORK/initramfs
mkdir -p "$IRFS"/{bin,dev,proc,sys,newroot}
cp "$BUSYBOX" "$IRFS/bin/busybox"
for applet in sh mount umount insmod mkdir sleep switch_root; do
    ln -s busybox "$IRFS/bin/$applet"
done
mknod -m 600 "$IRFS/dev/console" c 5 1
for m in "${initrd_mods[@]}"; do
    install -D -m 0644 "$GMODS/$m" "$IRFS/lib/modules/$m"
done
printf '%s\n' "${initrd_mods[@]}" >"$IRFS/modules.list"
install -m 0755 /dev/stdin "$IRFS/init" <<'EOF'
#!/bin/sh
# initramfs PID 1: load the drivers Debian builds as modules, mount the root
# disk and hand over to systemd. Exiting here panics the kernel, and with
# panic=-1 and qemu -no-reboot that ends the VM at once.
export PATH=/bin
fail() { echo "initramfs: $*"; exit 1; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do
    insmod "/lib/modules/$m" || echo "initramfs: insmod $m failed"
done </modules.list
i=0   # virtio-blk probes asynchronously
while [ ! -b /dev/vda ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
mount -t ext4 -o rw,noatime /dev/vda /newroot || fail "cannot mount /dev/vda"
mount --move /dev /newroot/dev
mount --move /sys /newroot/sys
mount --move /proc /newroot/proc
exec switch_root /newroot /sbin/init "$@"
EOF
(cd "$IRFS" && find . | sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null) |
    gzip -9 >"$WORK/initrd.img"

# --- publish ---------------------------------------------------------------------
log "installing the artifacts into $OUTDIR"
rm -f "$OUTDIR/vmlinux"
if [[ $have_vmlinux -eq 1 ]]; then
    mv -f "$WORK/vmlinux" "$OUTDIR/vmlinux"
fi
cp -f "$BZIMAGE" "$OUTDIR/vmlinuz"
mv -f "$WORK/initrd.img" "$WORK/root.img" "$OUTDIR/"
echo "$KVER" >"$OUTDIR/kver"
if [[ ${KEEP_WORK:-0} != 1 ]]; then
    log "removing $WORK"
    rm -rf --one-file-system "$WORK"
fi
echo "$HASH" >"$OUTDIR/build.hash"
log "done: kernel $KVER, $(du -sh --apparent-size "$OUTDIR/root.img" | cut -f1) root.img ($(du -sh "$OUTDIR/root.img" | cut -f1) on disk)"
