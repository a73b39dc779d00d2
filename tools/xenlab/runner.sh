#!/bin/sh
# xenlab runner: runs INSIDE dom0 (busybox sh).  Started by dom0-init from the input disk.
# Input:  /in/scenarios (space-separated list), /in/streams/* (streams handed in by the host),
#         /in/bad/* (hand-corrupted streams for expected-failure scenarios).
# Output: raw tar chunks written one after another onto /dev/vdb (read back with tar -xi);
#         each scenario's result is also printed on the console as
#         "LAB: RESULT<TAB>scenario<TAB>status<TAB>seconds<TAB>alive<TAB>detail".
# the Xen tools of whichever version this dom0 image carries (build.sh --xen 4.17|4.20: /usr/lib/xen-<ver>/bin)
XENBIN=$(ls -d /usr/lib/xen-*/bin 2>/dev/null | head -1)
export PATH=${XENBIN:-/usr/lib/xen-4.17/bin}:/bin:/sbin:/usr/bin:/usr/sbin
P=/out/pending; mkdir -p $P
OUTDEV=/dev/vdb
OFF=0            # next free MiB on $OUTDEV
CONS=/var/log/xen/console
SCEN=$(cat /in/scenarios 2>/dev/null)
ALIVE_WAIT=${ALIVE_WAIT:-30}

# Keep every child (xl, QEMU with nographic=1 takes over its stdin) away from the console tty:
# with stdin on /dev/console, QEMU grabbed the console and the runner's output stopped.
exec < /dev/null
say() { echo "LAB: $*"; }
now() { cut -d' ' -f1 /proc/uptime; }
el() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
fsize() { stat -c %s "$1" 2>/dev/null || echo 0; }

# Write every file in $P as one tar archive at MiB $OFF of $OUTDEV, then delete them.
# (Each archive starts on a 1 MiB boundary; the host reads the chunks with `tar -xi`.)
flush_out() {
  ( cd $P || exit 0
    files=$(ls -A); [ -n "$files" ] || exit 0
    tar -cf - $files | dd of=$OUTDEV bs=1M seek=$OFF iflag=fullblock oflag=direct conv=notrunc 2>/dev/null )
  bytes=0
  for f in $(ls -A $P); do s=$(fsize $P/$f); bytes=$((bytes + 512 + (s + 511) / 512 * 512)); done
  [ $bytes -gt 0 ] && OFF=$((OFF + (bytes + 10240 + 1048575) / 1048576))
  rm -f $P/* 2>/dev/null
  sync
}

result() {  # scenario status seconds alive detail
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" > $P/result-$1.tsv
  printf 'LAB: RESULT\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5"
}

ticklines() { cat $CONS/guest-$1*.log 2>/dev/null | tr -d '\r' | grep -c '^tick '; }
lasttick() {  # last tick in the most recently written console log of guest NAME
  f=$(ls -t $CONS/guest-$1*.log 2>/dev/null | head -1); [ -n "$f" ] || return 0
  tr -d '\r' < $f | grep '^tick ' | tail -1 | cut -d' ' -f2; }
# wait until N more tick lines than BASE appear for guest NAME; echo yes/no
wait_ticks() {  # name base n timeout_seconds (dom0 uptime-based: loop iterations are slow under TCG)
  dl=$(awk -v a="$(now)" -v t="$4" 'BEGIN{printf "%.2f", a + t}')
  while :; do
    [ $(ticklines $1) -ge $(($2 + $3)) ] && { echo yes; return 0; }
    [ "$(awk -v a="$(now)" -v d="$dl" 'BEGIN{print (a >= d) ? 1 : 0}')" = 1 ] && break
    sleep 0.5
  done
  echo no; return 1
}
consize() { cat $CONS/guest-$1*.log 2>/dev/null | wc -c; }
# wait for a booting guest's first ticks: the deadline moves on while its console keeps growing (a kernel that is
# still printing is still booting: under TCG on a loaded host that can take minutes), up to a hard cap; echo yes/no
wait_boot() {  # name base timeout_seconds cap_seconds
  start=$(now); dl=$(awk -v a="$start" -v t="$3" 'BEGIN{printf "%.2f", a + t}')
  cap=$(awk -v a="$start" -v t="$4" 'BEGIN{printf "%.2f", a + t}'); last=$(consize $1)
  while :; do
    [ "$(wait_ticks $1 $2 2 20)" = yes ] && { echo yes; return 0; }
    t=$(now); sz=$(consize $1)
    if [ "$sz" != "$last" ]; then   # progress: allow another 90 s from now, within the cap
      last=$sz; dl=$(awk -v a="$t" -v c="$cap" -v o="$dl" 'BEGIN{d = a + 90; if (d > c) d = c; if (d < o) d = o; printf "%.2f", d}')
    fi
    [ "$(awk -v a="$t" -v d="$dl" 'BEGIN{print (a >= d) ? 1 : 0}')" = 1 ] && break
  done
  echo no; return 1
}
# ---- liveness (issue #19): the generic judge ----------------------------------------------------------------------
# A domain is alive when it is in the running state (xl list: r or b, none of paused/shutdown/crashed/dying) and its
# CPU time advances within the window (xl list's Time(s)); its console's growth is recorded where a console log is
# readable. The lab's own guests print "tick N": for them two more ticks are required as well (the stronger signal).
# Prints yes/no; the evidence goes to /tmp/judge-NAME ("state=-b---- cpu=+0.4s/6s console=+120B ticks=+3").
domstate() { xl list "$1" 2>/dev/null | awk 'NR==2{print $5, $6}'; }
alive() {  # name [window_seconds]
  n=$1; w=${2:-$ALIVE_WAIT}; own=0; t0=$(now)
  [ "$(ticklines $n)" -gt 0 ] && own=1
  case " ${ALIVE_OWN_NAMES:-} " in *" $n "*) own=1 ;; esac   # the caller knows it is one of the lab's ticking guests
  set -- $(domstate $n); st0=${1:-none}; c0=${2:-0}
  cb0=$(consize $n); tb0=$(ticklines $n)
  dl=$(awk -v a="$t0" -v t="$w" 'BEGIN{printf "%.2f", a + t}')
  ok=no; why=""; st=$st0; c1=$c0
  while :; do
    sleep 1
    set -- $(domstate $n); st=${1:-none}; c1=${2:-$c0}
    case $st in none) why="no such domain"; break ;; *p*|*s*|*c*|*d*) why="not running"; break ;; esac
    adv=$(awk -v a="$c0" -v b="$c1" 'BEGIN{print (b > a) ? 1 : 0}')
    tk=$(( $(ticklines $n) - tb0 ))
    if [ "$adv" = 1 ] && { [ $own = 0 ] || [ $tk -ge 2 ]; }; then ok=yes; break; fi
    [ "$(awk -v a="$(now)" -v d="$dl" 'BEGIN{print (a >= d) ? 1 : 0}')" = 1 ] && { why="window ended"; break; }
  done
  cg=$(( $(consize $n) - cb0 ))
  ev="state=$st cpu=+$(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.1f", b - a}')s/$(el $t0 $(now))s console=+${cg}B"
  [ $own = 1 ] && ev="$ev ticks=+$(( $(ticklines $n) - tb0 ))"
  [ $ok = no ] && ev="$ev ($why)"
  echo "$ev" > /tmp/judge-$n
  echo $ok; [ $ok = yes ]
}
jd() { cat /tmp/judge-$1 2>/dev/null | tr ' ' ','; }   # the judge's evidence for NAME, one word

mkcfg() {  # name type
  case $1 in pv1|pvh1|hvm1) ;; *) mkcfg_foreign "$1" "$2"; return ;; esac
  if [ "$2" = hvm ]; then
    # true HVM with Debian's QEMU (qemu-xen) device model; the kernel is booted directly by
    # SeaBIOS (fw_cfg linuxboot) and ticks on the emulated UART, which QEMU writes to a file
    # that is named like the xenconsoled logs so the same tick checks apply.
    cat > /tmp/$1.cfg <<C
name="$1"
type="hvm"
kernel="/guest/vmlinuz"
ramdisk="/guest/tick.cpio.gz"
extra="console=ttyS0 xen_nopv rdinit=/init init_on_free=1 quiet loglevel=1"
memory=128
vcpus=1
vnc=0
nographic=1
vga="none"
serial="file:$CONS/guest-$1-serial.log"
device_model_version="qemu-xen"
device_model_override="/usr/libexec/xen-qemu-system-i386"
on_crash="preserve"
cpus="1"
C
    # lab.sh XENLAB_HVM_CFG (/in/hvm-extra.cfg): xl.cfg lines that replace (or add) keys of this config
    [ -f /in/hvm-extra.cfg ] && while IFS= read -r l; do
      k=$(echo "${l%%=*}" | tr -d ' '); [ -n "$k" ] || continue
      sed -i "/^$k *=/d" /tmp/$1.cfg; echo "$l" >> /tmp/$1.cfg
    done < /in/hvm-extra.cfg
    # Under nested TCG, dom0 (QEMU's polling, Xen's emulation) took ~1.6 of the 2 pCPUs and left the HVM guest ~10 %
    # of one: give the guest pCPU 1 to itself and keep dom0 on pCPU 0 while an HVM guest runs.
    xl vcpu-pin Domain-0 all 0 >/dev/null 2>&1 || true
    return
  fi
  cat > /tmp/$1.cfg <<C
name="$1"
type="$2"
kernel="/guest/vmlinuz"
ramdisk="/guest/tick.cpio.gz"
extra="console=hvc0 rdinit=/init init_on_free=1"
memory=128
vcpus=1
on_crash="preserve"
C
}

# The "foreign" profile (issue #19's test set): guests that are not the lab's own. Another guest image (heartbeat, not
# tick), another kernel command line, names the lab never uses, 2 vCPUs for PV, and for HVM a serial log under
# /root/out/NAME/ (made here, absent in any other boot: the path an operator's host has and the lab has not).
mkcfg_foreign() {  # name type
  vc=1; [ "$2" = pv ] && vc=2
  if [ "$2" = hvm ]; then
    mkdir -p /root/out/$1
    cat > /tmp/$1.cfg <<C
name="$1"
type="hvm"
kernel="/guest/vmlinuz"
ramdisk="/guest/heartbeat.cpio.gz"
extra="console=ttyS0 xen_nopv rdinit=/init quiet loglevel=1 hb_role=$1"
memory=144
vcpus=1
vnc=0
nographic=1
vga="none"
serial="file:/root/out/$1/ttyS0.log"
device_model_version="qemu-xen"
device_model_override="/usr/libexec/xen-qemu-system-i386"
on_crash="destroy"
cpus="1"
C
    xl vcpu-pin Domain-0 all 0 >/dev/null 2>&1 || true
    return
  fi
  cat > /tmp/$1.cfg <<C
name="$1"
type="$2"
kernel="/guest/vmlinuz"
ramdisk="/guest/heartbeat.cpio.gz"
extra="console=hvc0 rdinit=/init quiet hb_role=$1"
memory=160
vcpus=$vc
on_crash="destroy"
on_reboot="destroy"
C
}

# a foreign guest is up when its console shows a heartbeat (its own protocol; the judge does not rely on it)
wait_heartbeat() {  # name timeout_seconds
  dl=$(awk -v a="$(now)" -v t="$2" 'BEGIN{printf "%.2f", a + t}')
  while :; do
    { cat $CONS/guest-$1*.log /root/out/$1/*.log 2>/dev/null | grep -q 'heartbeat\] seq=1'; } && { echo yes; return 0; }
    [ "$(awk -v a="$(now)" -v d="$dl" 'BEGIN{print (a >= d) ? 1 : 0}')" = 1 ] && break
    sleep 1
  done
  echo no; return 1
}

ensure_guest() {  # name type ; creates and waits for ticks
  xl domid $1 >/dev/null 2>&1 && return 0
  # An HVM guest is created with no other guest running (HVM_SHARED=1 keeps them): on Xen 4.20 both times hvm1 was
  # created beside running pv1/pvh1 guests, SeaBIOS 1.16.3 spun after "Turning on vga text mode console" and never
  # booted; each of the 4 times it was created alone, it booted (docs/XENLAB.md, "4.20 HVM")
  if [ "$2" = hvm ] && [ "${HVM_SHARED:-0}" != 1 ]; then
    for d in $(xl list 2>/dev/null | awk 'NR>2{print $1}'); do say "destroying $d before creating HVM guest $1"; xl destroy $d >/dev/null 2>&1; done
  fi
  mkcfg $1 $2
  b=$(ticklines $1)
  t0=$(now)
  timeout 300 xl -vv create /tmp/$1.cfg >> $P/log-guests.txt 2>&1 &
  cpid=$!; w=0
  while kill -0 $cpid 2>/dev/null; do   # live diagnostics while xl create runs (HVM + QEMU can be slow)
    sleep 1; w=$((w + 1))
    [ $((w % 30)) = 0 ] && say "xl create $1 still running after ${w}s: $(tail -2 $P/log-guests.txt | tr '\n' ' ' | cut -c1-200) | qemu: $(tail -2 /var/log/xen/qemu-dm-$1.log 2>/dev/null | tr '\n' ' ' | cut -c1-200)"
  done
  wait $cpid || { say "create $1 failed: $(tail -3 $P/log-guests.txt | tr "\n" " ")"; return 1; }
  bootwait=150; [ "$2" = hvm ] && bootwait=${HVM_BOOT_WAIT:-480}   # SeaBIOS + non-PV kernel boot is slow under nested TCG
  case $1 in pv1|pvh1|hvm1) ;; *)
    if [ "$(wait_heartbeat $1 ${BOOT_WAIT_CAP:-900})" = yes ]; then say "guest $1 ($2, foreign) up after $(el $t0 $(now)) s"; return 0; fi
    say "foreign guest $1 ($2) never showed a heartbeat; console: $(tail -c 300 $CONS/guest-$1*.log /root/out/$1/*.log 2>/dev/null | tr '\r\n' '  ')"
    return 1 ;;
  esac
  if [ "$(wait_boot $1 $b $bootwait ${BOOT_WAIT_CAP:-900})" = yes ]; then
    say "guest $1 ($2) ticking after $(el $t0 $(now)) s"; return 0
  fi
  say "guest $1 ($2) never ticked; xl list: $(xl list | awk 'NR>1{printf "%s/%s ", $1, $5}')"
  [ -f /var/log/xen/qemu-dm-$1.log ] && say "qemu-dm-$1.log: $(tail -5 /var/log/xen/qemu-dm-$1.log | tr '\n' ' ')"
  say "console: $(tail -c 300 $CONS/guest-$1*.log 2>/dev/null | tr '\r\n' '  ')"
  return 1
}

destroy_all() {
  for d in $(xl list 2>/dev/null | awk 'NR>2{print $1}'); do xl destroy $d >/dev/null 2>&1; done
  sleep 1
}

# ------------------------------------------------------------------------------------------
sc_save() {  # scenario type name [-c]
  sc=$1; ty=$2; n=$3; opt=$4
  ensure_guest $n $ty || { result $sc FAIL 0 no "guest did not start"; return; }
  t0=$(now)
  xl save $opt $n $P/$sc.xl > $P/log-$sc.txt 2>&1; rc=$?
  t1=$(now); ts=$(el $t0 $t1); sz=$(fsize $P/$sc.xl)
  [ $rc = 0 ] || { result $sc FAIL $ts no "xl save rc=$rc"; return; }
  if [ -n "$opt" ]; then
    a=$(alive $n)
    [ $a = yes ] && st=PASS || st=FAIL
    result $sc $st $ts $a "save=${ts}s size=$sz lasttick=$(lasttick $n) judge=$(jd $n)"
    return
  fi
  tr0=$(now)
  xl restore $P/$sc.xl >> $P/log-$sc.txt 2>&1; rc=$?
  tr=$(el $tr0 $(now))
  a=$(alive $n)
  [ $rc = 0 ] && [ $a = yes ] && st=PASS || st=FAIL
  result $sc $st $ts $a "save=${ts}s restore=${tr}s restore_rc=$rc size=$sz lasttick=$(lasttick $n) judge=$(jd $n)"
}

sc_migrate() {  # scenario type name [--debug]
  sc=$1; ty=$2; n=$3; dbg=$4; rflag=-e; [ -n "$dbg" ] && rflag="-e -d"
  ensure_guest $n $ty || { result $sc FAIL 0 no "guest did not start"; return; }
  t0=$(now)
  xl migrate $dbg -s '' $n "tee $P/$sc.s2r | xl migrate-receive $rflag 2>$P/log-$sc-receiver.txt | tee $P/$sc.r2s" \
     > $P/log-$sc.txt 2>&1; rc=$?
  ts=$(el $t0 $(now))
  a=$(alive $n)
  det="rc=$rc s2r=$(fsize $P/$sc.s2r) r2s=$(fsize $P/$sc.r2s) lasttick=$(lasttick $n) judge=$(jd $n)"
  if [ "$sc" = migrate-pv ]; then   # known limit: PV live migration needs shadow paging
    if [ $rc != 0 ] && grep -q 'logdirty' $P/log-$sc*.txt; then
      result $sc XFAIL $ts $a "$det expected: $(grep -h -m1 -i logdirty $P/log-$sc*.txt | tr '\t' ' ')"
    else result $sc FAIL $ts $a "$det (expected logdirty failure not seen)"; fi
    return
  fi
  [ $rc = 0 ] && [ $a = yes ] && st=PASS || st=FAIL
  result $sc $st $ts $a "$det"
}

sc_remus() {  # scenario type name
  sc=$1; ty=$2; n=$3
  ensure_guest $n $ty || { result $sc FAIL 0 no "guest did not start"; return; }
  prim=$(xl domid $n)
  t0=$(now)
  xl remus -F -n -d -i 200 -s '' $n "tee $P/$sc.s2r | xl migrate-receive -r 2>$P/log-$sc-receiver.txt | tee $P/$sc.r2s" \
     > $P/log-$sc.txt 2>&1 &
  spid=$!
  # wait for the end of the first full (live) pass (libxc prints "Frames iteration 0: N/N 100%";
  # the pass scans the whole p2m, ~1M pfns for PVH), then let checkpoints run for a while
  # The wait follows the pass's progress (libxc's "Frames iteration 0: N/M P%" lines), so that it scales with the
  # host's load: it ends when the pass ends, when the sender exits, when N has not moved for REMUS_STALL s (default
  # 180) after a first progress line, or after REMUS_FIRST_PASS_CAP s in all (default 1800; dom0 uptime). On Xen 4.20
  # the sender's log once showed no progress line at all within 184 s (they reach xl's log late): without one, only
  # the cap ends the wait.
  # Without progress lines, the stream says it: once the s2r holds as many bytes as the guest has memory and grew by
  # less than 2 MiB in 15 s, the first pass (every page) is over and only checkpoints of dirty pages follow.
  tp0=$(now); lastn=""; lastt=$tp0; mem=$(xl list $n 2>/dev/null | awk 'NR==2{print $3}'); i=0; sz15=0
  while kill -0 $spid 2>/dev/null && ! grep -qE 'iteration 0: .*100%|iteration 1' $P/log-$sc.txt; do
    sleep 1; tn=$(now); i=$((i + 1))
    cur=$(tr '\r' '\n' < $P/log-$sc.txt | grep -oE 'iteration 0: [0-9]+/' | tail -1)
    [ "$cur" != "$lastn" ] && { lastn=$cur; lastt=$tn; }
    if [ -z "$cur" ] && [ $((i % 15)) = 0 ]; then
      sz=$(fsize $P/$sc.s2r)
      if [ "$sz" -ge $(( ${mem:-128} * 1048576 )) ] && [ $((sz - sz15)) -lt 2097152 ]; then
        say "$sc: no progress line; the s2r ($sz bytes) passed the guest's ${mem:-128} MiB and grew $((sz - sz15)) bytes in 15 s: first pass over"; break
      fi
      sz15=$sz
    fi
    [ "$(awk -v a="$tn" -v b="$lastt" -v s="${REMUS_STALL:-180}" -v c="$tp0" -v m="${REMUS_FIRST_PASS_CAP:-1800}" -v p="$cur" \
         'BEGIN{print ((p != "" && a - b >= s) || a - c >= m) ? 1 : 0}')" = 1 ] && { say "$sc: first pass stalled or capped at ${cur:-no progress line}"; break; }
  done
  tfull=$(el $t0 $(now))
  sleep ${REMUS_CHECKPOINT_SECONDS:-15}
  s_before=$(fsize $P/$sc.s2r)
  kill -9 $spid 2>/dev/null; wait $spid 2>/dev/null
  xl destroy $prim >> $P/log-$sc.txt 2>&1
  tk=$(now)
  # wait for the receiver to fail over (its xl ends, or the domain is renamed back)
  t=0; while [ $t -lt 120 ]; do
    ps | grep -v grep | grep -q 'migrate-receive' || break
    grep -q 'Failover' $P/log-$sc-receiver.txt 2>/dev/null && xl domid $n >/dev/null 2>&1 && break
    sleep 0.5; t=$((t+1)); done
  tf=$(el $tk $(now))
  a=$(alive $n)
  fo=$(grep -c -i 'failover' $P/log-$sc-receiver.txt 2>/dev/null)
  det="first_pass=${tfull}s failover=${tf}s s2r=$(fsize $P/$sc.s2r) r2s=$(fsize $P/$sc.r2s) failover_msgs=$fo domains=$(xl list | awk 'NR>1{printf "%s,", $1}') lasttick=$(lasttick $n) judge=$(jd $n)"
  [ $a = yes ] && [ "$fo" -gt 0 ] && st=PASS || st=FAIL
  result $sc $st $(el $t0 $(now)) $a "$det"
}

sc_restore_host() {  # restore every stream the host handed in (restore-host: /in/streams; engine-roundtrip: /in/engine)
  sc=${1:-restore-host}; dir=${2:-/in/streams}; any=0; allok=1; det=""; tt0=$(now)
  for f in $dir/*.xl; do
    [ -f "$f" ] || continue; any=1
    b=$(basename $f .xl)
    destroy_all
    case $b in *hvm*) xl vcpu-pin Domain-0 all 0 >/dev/null 2>&1 ;; esac   # the HVM guest's config pins it to pCPU 1
    t0=$(now)
    xl restore $f > $P/log-$sc-$b.txt 2>&1; rc=$?
    tr=$(el $t0 $(now))
    n=$(xl list | awk 'NR>2{print $1; exit}')
    a=no; [ -n "$n" ] && a=$(alive $n)
    [ $rc = 0 ] && [ $a = yes ] || allok=0
    det="$det $b:rc=$rc,${tr}s,alive=$a,tick=$(lasttick $n),judge=$(jd $n)"
    say "$sc $b rc=$rc ${tr}s alive=$a"
  done
  destroy_all
  xl vcpu-pin Domain-0 all all >/dev/null 2>&1
  [ -f $dir/failed ] && { result $sc FAIL $(el $tt0 $(now)) - "$(cat $dir/failed | tr '\n' ' ')$det"; return; }
  [ $any = 0 ] && { result $sc SKIP 0 - "no streams handed in"; return; }
  [ $allok = 1 ] && st=PASS || st=FAIL
  result $sc $st $(el $tt0 $(now)) $a "$det"
}

sc_receive_replay() {  # xl migrate-receive fed by a replayed sender stream
  sc=receive-replay; f=/in/streams/migrate-pvh.s2r
  [ -f $f ] || { result $sc SKIP 0 - "no migrate-pvh.s2r handed in"; return; }
  destroy_all
  t0=$(now)
  xl migrate-receive -e < $f > $P/$sc.r2s 2> $P/log-$sc.txt; rc=$?
  ts=$(el $t0 $(now))
  n=$(xl list | awk 'NR>2{print $1; exit}')
  a=no; [ -n "$n" ] && a=$(alive $n)
  [ $rc = 0 ] && [ $a = yes ] && st=PASS || st=FAIL
  result $sc $st $ts $a "rc=$rc domain=$n r2s=$(fsize $P/$sc.r2s) lasttick=$(lasttick $n) judge=$(jd $n)"
  destroy_all
}

# ---- network scenarios: the bytes cross QEMU user-mode networking to streambench on the host --------------------
# lab.sh gives the VM a virtio NIC (dom0-init sets eth0 = 10.0.2.15, the host is 10.0.2.2) and forwards the host's
# 127.0.0.1:P2 to dom0's port $LPORT, where a busybox `nc -l -e` runs `xl migrate-receive -e` on the connection.
# /in/net: "recport N" = the host port on which `streambench record` listens (dom0 connects to 10.0.2.2:N).
LPORT=5001
netok() { [ -e /sys/class/net/eth0 ] && ifconfig eth0 2>/dev/null | grep -q 'inet addr:10.0.2.15'; }
listen_receiver() {  # scenario : starts `nc -l -p $LPORT -e xl migrate-receive -e` in the background, sets lpid
  printf '#!/bin/sh\nexec xl migrate-receive -e 2>>%s\n' "$P/log-$1-receiver.txt" > /tmp/recv-$1.sh
  chmod +x /tmp/recv-$1.sh
  nc -l -p $LPORT -e /tmp/recv-$1.sh > /dev/null 2>> $P/log-$1-nc.txt &
  lpid=$!
  sleep 1
  kill -0 $lpid 2>/dev/null
}
wait_pid() {  # pid timeout_seconds (dom0 uptime) -> rc of the process, 124 when it had to be killed
  dl=$(awk -v a="$(now)" -v t="$2" 'BEGIN{printf "%.2f", a + t}')
  while kill -0 $1 2>/dev/null; do
    [ "$(awk -v a="$(now)" -v d="$dl" 'BEGIN{print (a >= d) ? 1 : 0}')" = 1 ] && { kill -9 $1 2>/dev/null; wait $1 2>/dev/null; return 124; }
    sleep 0.5
  done
  wait $1
}

sc_migrate_recorded() {  # xl migrate whose transport is streambench's TCP proxy on the host (both directions recorded)
  sc=migrate-recorded; n=pvh1
  netok || { result $sc FAIL 0 no "no network in dom0 (eth0: $(ifconfig eth0 2>&1 | head -2 | tr '\n' ' '))"; return; }
  recport=$(awk '$1=="recport"{print $2}' /in/net 2>/dev/null)
  [ -n "$recport" ] || { result $sc FAIL 0 no "no recorder port handed in (/in/net)"; return; }
  ensure_guest $n pvh || { result $sc FAIL 0 no "guest did not start"; return; }
  listen_receiver $sc || { result $sc FAIL 0 no "nc listener did not start: $(cat $P/log-$sc-nc.txt)"; return; }
  say "$sc: receiver listening on :$LPORT; xl migrate -s '' $n \"nc 10.0.2.2 $recport\""
  t0=$(now)
  timeout ${MIGRATE_TIMEOUT:-900} xl migrate -s '' $n "nc 10.0.2.2 $recport" > $P/log-$sc.txt 2>&1; rc=$?
  ts=$(el $t0 $(now))
  wait_pid $lpid 60; rrc=$?
  a=$(alive $n)
  [ $rc = 0 ] && [ $rrc = 0 ] && [ $a = yes ] && st=PASS || st=FAIL
  result $sc $st $ts $a "rc=$rc receiver_rc=$rrc domain=$(xl domid $n 2>/dev/null) lasttick=$(lasttick $n) judge=$(jd $n)"
}

sc_replay_recorded() {  # xl migrate-receive behind a TCP listener, fed by `streambench replay CAP --to-tcp` on the host
  sc=replay-recorded
  [ -f /in/replay-recorded.expected ] || { result $sc SKIP 0 - "no capture on the host to replay"; return; }
  netok || { result $sc FAIL 0 no "no network in dom0"; return; }
  destroy_all
  listen_receiver $sc || { result $sc FAIL 0 no "nc listener did not start: $(cat $P/log-$sc-nc.txt)"; return; }
  t0=$(now)
  say "LISTEN $sc port $LPORT"   # lab.sh starts the replay on the host when it sees this line
  wait_pid $lpid ${REPLAY_TIMEOUT:-900}; rc=$?
  ts=$(el $t0 $(now))
  n=$(xl list | awk 'NR>2{print $1; exit}')
  a=no; [ -n "$n" ] && a=$(alive $n)
  [ $rc = 0 ] && [ $a = yes ] && st=PASS || st=FAIL
  result $sc $st $ts $a "receiver_rc=$rc domain=$n lasttick=$(lasttick $n) judge=$(jd $n)"
  destroy_all
}

sc_replay_streams() {  # every stream the host listed in /in/streams/INDEX.tsv (lab.sh --streams DIR: any names and kinds)
  # INDEX.tsv: kind<TAB>stream<TAB>config-beside-or-<TAB>raw-original-or-<TAB>guest<TAB>label
  #   save:      xl restore [CONFIG] STREAM (with a raw original named, that is first tried as it came: recorded only)
  #   migration: xl migrate-receive -e < STREAM (the host's adapted copy when the config needed changes)
  #   remus:     xl migrate-receive -r < STREAM (the receiver fails over when the stream ends)
  sc=replay-streams; idx=/in/streams/INDEX.tsv; any=0; allok=1; det=""; tt0=$(now)
  [ -f $idx ] || { result $sc SKIP 0 - "no INDEX.tsv handed in"; return; }
  exec 3< $idx
  while IFS='	' read -r kind f cfg raw guest label <&3; do
    case $kind in save|migration|remus) ;; *) continue ;; esac
    any=1; destroy_all
    [ "$guest" = hvm ] && xl vcpu-pin Domain-0 all 0 >/dev/null 2>&1
    rawr=""
    if [ "$kind" = save ] && [ "$raw" != - ] && [ -f /in/streams/$raw ]; then
      timeout 300 xl restore /in/streams/$raw > $P/log-$sc-$label-raw.txt 2>&1; rr=$?
      rawr="raw_rc=$rr($(grep -m1 -iE 'error|fail' $P/log-$sc-$label-raw.txt | cut -c1-100 | tr ' \t' '__'))"
      say "$sc $label: as it came: xl restore rc=$rr"
      destroy_all; [ "$guest" = hvm ] && xl vcpu-pin Domain-0 all 0 >/dev/null 2>&1
    fi
    t0=$(now)
    case $kind in
      save) if [ "$cfg" != - ]; then timeout 300 xl restore /in/streams/$cfg /in/streams/$f > $P/log-$sc-$label.txt 2>&1; rc=$?
            else timeout 300 xl restore /in/streams/$f > $P/log-$sc-$label.txt 2>&1; rc=$?; fi ;;
      migration) timeout 600 xl migrate-receive -e < /in/streams/$f > $P/$sc-$label.r2s 2> $P/log-$sc-$label.txt; rc=$? ;;
      remus) timeout 600 xl migrate-receive -r < /in/streams/$f > $P/$sc-$label.r2s 2> $P/log-$sc-$label.txt; rc=$? ;;
    esac
    tr=$(el $t0 $(now))
    n=$(xl list | awk 'NR>2{print $1; exit}')
    a=no; [ -n "$n" ] && a=$(alive $n)
    ok=no; if { [ $rc = 0 ] || [ $kind = remus ]; } && [ $a = yes ]; then ok=yes; fi
    [ $ok = yes ] || allok=0
    det="$det $label:$kind,rc=$rc,${tr}s,domain=${n:--},alive=$a,judge=$(jd $n)${rawr:+,$rawr}"
    say "$sc $label ($kind${cfg:+, config $cfg}) rc=$rc ${tr}s domain=${n:--} alive=$a $(cat /tmp/judge-$n 2>/dev/null) $rawr"
  done
  exec 3<&-
  destroy_all; xl vcpu-pin Domain-0 all all >/dev/null 2>&1
  [ $any = 0 ] && { result $sc SKIP 0 - "INDEX.tsv lists no stream"; return; }
  [ $allok = 1 ] && st=PASS || st=FAIL
  result $sc $st $(el $tt0 $(now)) - "$det"
}

sc_colo() {  # one attempt at a real `xl remus --colo` (issue #12's lab bullet); records what Debian's build says
  # libxl's COLO is HVM only: a running HVM domain comes fastest from a handed-in HVM save (replay-streams' INDEX), else
  # a PVH one from a handed-in migration stream, else the lab boots pvh1 (minutes under load)
  sc=colo-attempt; n=""; destroy_all
  idx=/in/streams/INDEX.tsv; src="booted pvh1"
  hv=$(awk -F'\t' '$1=="save" && $5=="hvm"{print $2" "$3; exit}' $idx 2>/dev/null)
  mg=$(awk -F'\t' '$1=="migration" && $5=="pvh"{print $2; exit}' $idx 2>/dev/null)
  if [ -n "$hv" ]; then
    set -- $hv; xl vcpu-pin Domain-0 all 0 >/dev/null 2>&1
    timeout 300 xl restore /in/streams/$2 /in/streams/$1 > $P/log-$sc-source.txt 2>&1 && src="restored hvm $1"
  elif [ -n "$mg" ]; then
    timeout 600 xl migrate-receive -e < /in/streams/$mg > /dev/null 2> $P/log-$sc-source.txt && src="received pvh $mg"
  fi
  n=$(xl list | awk 'NR>2{print $1; exit}')
  if [ -z "$n" ]; then n=pvh1; ensure_guest $n pvh || { result $sc FAIL 0 no "guest did not start"; return; }; fi
  say "$sc: domain $n ($src)"
  t0=$(now)
  timeout ${COLO_TIMEOUT:-180} xl -vv remus -c -s '' $n "tee $P/$sc.s2r | xl -vv migrate-receive -r --colo 2>$P/log-$sc-receiver.txt | tee $P/$sc.r2s" \
    > $P/log-$sc.txt 2>&1; rc=$?
  ts=$(el $t0 $(now))
  a=$(alive $n)
  msg=$(grep -h -iE 'colo|not supported|unable|error' $P/log-$sc.txt $P/log-$sc-receiver.txt 2>/dev/null | grep -v 'detail:' | head -4 | tr '\t\n' '  ' | cut -c1-400)
  det="domain=$n($src) rc=$rc s2r=$(fsize $P/$sc.s2r) r2s=$(fsize $P/$sc.r2s) domains=$(xl list | awk 'NR>1{printf "%s,", $1}') judge=$(jd $n) xl: $msg"
  if [ $rc != 0 ] && grep -q 'COLO is not supported' $P/log-$sc*.txt; then
    result $sc XFAIL $ts $a "$det (known limit: Debian's libxenlight 4.17 is built without COLO: libxl_no_colo.c)"
  elif [ $rc = 124 ]; then result $sc PASS $ts $a "$det (COLO ran until the ${COLO_TIMEOUT:-180} s limit)"
  else result $sc FAIL $ts $a "$det"; fi
  destroy_all
}

# hvm-probe (issue #16): why the lab's HVM guest does not boot on a host. Each variant of the lab's HVM config is created
# in turn and watched for HVM_PROBE_WAIT s (dom0 uptime): how far the firmware got (Xen's console, port 0xe9), the
# serial log, QEMU's log (with QEMU's serial-port trace events where asked), QEMU's command line, CPU time; then
# destroyed. Variants (one word each): base (the lab's config), trace (base + QEMU -trace serial_* -d guest_errors,unimp),
# stdvga (vga="stdvga": SeaBIOS gets a VGA ROM, so its serial console is not the primary display), pty (serial="pty"),
# noserial (no serial line: no sercon). PASS when the scenario ran; what each variant did is in its detail.
probe_cfg() {  # variant name : the lab's own HVM config (hvm1's), renamed
  mkcfg hvm1 hvm
  sed "s/^name=.*/name=\"$2\"/; s/guest-hvm1-serial/guest-$2-serial/" /tmp/hvm1.cfg > /tmp/$2.cfg
  case $1 in
    trace) echo 'device_model_args=["-trace","enable=serial_*","-d","guest_errors,unimp","-D","/var/log/xen/qemu-trace-'$2'.log"]' >> /tmp/$2.cfg ;;
    stdvga) sed -i 's/^vga=.*/vga="stdvga"/' /tmp/$2.cfg ;;
    pty) sed -i 's/^serial=.*/serial="pty"/' /tmp/$2.cfg ;;
    noserial) sed -i '/^serial=/d' /tmp/$2.cfg ;;
  esac
}
sc_hvm_probe() {
  sc=hvm-probe; det=""; tt0=$(now)
  for v in ${HVM_PROBE_VARIANTS:-$(cat /in/hvm-probe-variants 2>/dev/null || echo trace pty stdvga)}; do
    destroy_all; n=probe$v
    probe_cfg $v $n; cp /tmp/$n.cfg $P/$sc-$v.cfg
    t0=$(now)
    timeout 300 xl -vv create /tmp/$n.cfg > $P/log-$sc-$v.txt 2>&1; crc=$?
    id=$(xl domid $n 2>/dev/null)
    qp=$(pgrep -f "xen-domid $id " | head -1); [ -n "$qp" ] && tr '\0' ' ' < /proc/$qp/cmdline > $P/$sc-$v-qemu-cmdline.txt
    w=0; fw=""; tk=0; rom=""; lim=${HVM_PROBE_WAIT:-240}; [ $v = stdvga ] && lim=${HVM_PROBE_WAIT_LONG:-600}
    while [ $w -lt $lim ] && [ -n "$id" ]; do
      sleep 5; w=$((w + 5))
      tk=$(ticklines $n)
      [ "$tk" -gt 1 ] && break
      # past the firmware: without a file serial log there are no ticks to wait for, give the kernel 60 s more
      [ -z "$rom" ] && xl dmesg 2>/dev/null | grep -a "(d$id)" | grep -q 'Booting from ROM' && { rom=$w; say "$sc $v: SeaBIOS booted the ROM after ${w}s"; }
      [ -n "$rom" ] && [ $v != stdvga ] && [ $v != trace ] && [ $((w - rom)) -ge 60 ] && break
    done
    xl dmesg 2>/dev/null | grep -a "(d$id)" > $P/$sc-$v-firmware.txt
    fw=$(grep -a -v '^$' $P/$sc-$v-firmware.txt | tail -1 | cut -c1-80 | tr ' \t' '__')
    boot=no; grep -aq 'Booting from ROM' $P/$sc-$v-firmware.txt && boot=yes
    ser=$(consize $n); cpu=$(xl list $n 2>/dev/null | awk 'NR==2{print $6}')
    cp /var/log/xen/qemu-dm-$n.log $P/$sc-$v-qemu-dm.log 2>/dev/null
    [ -f /var/log/xen/qemu-trace-$n.log ] && { head -c 200000 /var/log/xen/qemu-trace-$n.log > $P/$sc-$v-qemu-trace-head.log; tail -c 100000 /var/log/xen/qemu-trace-$n.log > $P/$sc-$v-qemu-trace-tail.log; }
    say "$sc $v: create_rc=$crc ${w}s firmware_lines=$(wc -l < $P/$sc-$v-firmware.txt) last=$fw booted_rom=$boot serial=${ser}B ticks=$tk cpu=${cpu:-?}s qemu: $(tail -c 200 /var/log/xen/qemu-dm-$n.log 2>/dev/null | tr '\n\t' '  ')"
    det="$det $v:create_rc=$crc,waited=${w}s,booted_rom=$boot,serial=${ser}B,ticks=$tk,cpu=${cpu:-?}s,last=$fw"
    xl destroy $n > /dev/null 2>&1
  done
  destroy_all; xl vcpu-pin Domain-0 all all >/dev/null 2>&1
  result $sc PASS $(el $tt0 $(now)) - "$det"
}

apply_bad() {  # spec -> /tmp/bad.bin (copy of the handed-in base stream, then truncate/poke)
  base=$(awk '$1=="base"{print $2}' $1)
  cp /in/streams/$base /tmp/bad.bin || return 1
  grep -E '^(truncate|poke) ' $1 | while read op a b; do
    case $op in
      truncate) truncate -s $a /tmp/bad.bin ;;
      poke) esc=""; h=$b
            while [ -n "$h" ]; do byte=${h%"${h#??}"}; h=${h#??}; esc="$esc\\$(printf %03o 0x$byte)"; done
            printf "$esc" | dd of=/tmp/bad.bin bs=1 seek=$a conv=notrunc 2>/dev/null ;;
    esac
  done
}

sc_bad() {  # expected failures: xl restore of truncated / hand-corrupted real streams
  sc=bad-streams; any=0; allok=1; det=""; tt0=$(now); nrej=0; nacc=""; ncr=""; nto=""
  for f in /in/bad/*.bad; do
    [ -f "$f" ] || continue
    b=$(basename $f .bad)
    destroy_all
    apply_bad $f || { say "bad $b: base stream missing"; continue; }
    any=1
    sum=$(sha256sum /tmp/bad.bin | cut -c1-16)
    t0=$(now)
    timeout 120 xl restore /tmp/bad.bin > $P/log-bad-$b.txt 2>&1; rc=$?
    tr=$(el $t0 $(now))
    left=$(xl list | awk 'NR>2{printf "%s,", $1}')
    a=-; [ -n "$left" ] && a=$(alive $(xl list | awk 'NR>2{print $1; exit}'))
    if [ $rc = 124 ] || [ $rc = 137 ]; then st=TIMEOUT; allok=0; nto="$nto $b"
    elif [ $rc -ge 128 ]; then st=xl-crashed; ncr="$ncr $b"
    elif [ $rc != 0 ]; then st=expected-failure; nrej=$((nrej+1))
    else st=ACCEPTED; nacc="$nacc $b"; fi
    msg=$(grep -iE 'error|fail|invalid|unable|truncat|unknown|incorrect|mismatch|unsupported|short' $P/log-bad-$b.txt | grep -v 'Loading new save file' | head -3 | tr '\t\n' '  ' | cut -c1-400)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$b" "$st" "$rc" "$tr" "${left:--}" "$sum" "$msg" >> $P/bad-results.tsv
    say "bad $b $st rc=$rc ${tr}s left=${left:--} alive=$a: $msg"
    rm -f /tmp/bad.bin
  done
  destroy_all
  [ $any = 0 ] && { result $sc SKIP 0 - "no bad streams handed in"; return; }
  # The scenario records Xen's behaviour; it fails only if a restore hung (timeout).
  [ $allok = 1 ] && st=PASS || st=FAIL
  result $sc $st $(el $tt0 $(now)) - "rejected=$nrej accepted(unexpected):${nacc:- none} xl-crashed:${ncr:- none} timeout:${nto:- none}"
}

# ---- real-restore / findings (issue #16 part 3): Xen's own restore path fed with mutants -------------------------
# Each spec (mkfuzz.py; mkbad's format) is applied to the handed-in base IN PLACE: its original bytes are saved and
# written back after the command, so dom0 holds one copy of each base (a truncation alone reads a cut copy in /tmp).
# Saves go to `xl restore FILE`, Remus sender streams (remus*.s2r, xen-VER-remus*.s2r) to `xl migrate-receive -r <
# FILE` (the receiver fails over when the stream ends, as replay-streams does), other migration sender streams (*.s2r)
# to `xl migrate-receive -e < FILE`, each under
# `timeout`. Classes: refused (rc 1-127, nothing left), half-built (rc != 0 and a new domain is left in xl list),
# xl-crash (a signal: rc >= 128, not 124/137), hang (timeout: 124/137, or 143 = SIGTERM at the limit), xen-crash (new `xl dmesg` lines with panic /
# BUG / Xen call trace / FATAL; the boot dying is seen by the host: a FUZZ-START line without its FUZZ line),
# accepted-alive / accepted-dead (rc 0, then the generic judge on the new domain). One "LAB: FUZZ" line per mutant
# (the host rebuilds the TSV from the serial log, so nothing is lost if the boot dies), and fuzz-results.tsv.
hexpoke() {  # file offset hex : write the bytes in place (printf's \xHH: one process, not one per byte)
  printf "$(echo $3 | sed 's/../\\x&/g')" | dd of=$1 bs=1 seek=$2 conv=notrunc 2>/dev/null
}
fuzz_apply() {  # spec -> FUZZIN (the file to feed), /tmp/fuzz-undo (offset hex lines that restore the base)
  fb=/in/streams/$(awk '$1=="base"{print $2}' $1); : > /tmp/fuzz-undo
  [ -f "$fb" ] || return 1
  cut=$(awk '$1=="truncate"{print $2; exit}' $1)
  if [ -n "$cut" ]; then head -c $cut $fb > /tmp/bad.bin; FUZZIN=/tmp/bad.bin; else FUZZIN=$fb; fi
  grep -E '^poke ' $1 | while read po pa ph; do
    [ "$FUZZIN" = "$fb" ] && echo "$pa $(dd if=$fb bs=1 skip=$pa count=$(( ${#ph} / 2 )) 2>/dev/null | od -An -v -tx1 | tr -d ' \n')" >> /tmp/fuzz-undo
    hexpoke $FUZZIN $pa $ph
  done
}
fuzz_undo() { while read uo uh; do hexpoke $fb $uo $uh; done < /tmp/fuzz-undo; : > /tmp/fuzz-undo; rm -f /tmp/bad.bin; }
domlist() { xl list 2>/dev/null | awk 'NR>2{print $1}' | sort; }
fuzz_clean() {  # destroy what the last mutant left; BEFORE = the domains that survive that (none, normally)
  ds=$(domlist); before=""
  [ -n "$ds" ] || return 0
  for d in $ds; do xl destroy $d >/dev/null 2>&1; done
  sleep 1; before=$(domlist | tr '\n' ' ')
}
sc_fuzz() {  # scenario specdir budget_seconds
  sc=$1; dir=$2; budget=$3; tmo=${FUZZ_TIMEOUT:-$(cat /in/fuzz-timeout 2>/dev/null || echo 120)}
  tt0=$(now); nm=0; : > /tmp/fuzz-classes
  xl dmesg -c > $P/xl-dmesg-before-$sc.txt 2>&1
  printf 'spec\tbase\tcommand\tclass\trc\tseconds\tleftover\txen_message\n' > $P/$sc-results.tsv
  for f in $dir/*.bad; do
    [ -f "$f" ] || continue
    [ "$budget" -gt 0 ] && [ "$(awk -v a="$tt0" -v b="$(now)" -v t="$budget" 'BEGIN{print (b - a >= t) ? 1 : 0}')" = 1 ] && break
    b=$(basename $f .bad); base=$(awk '$1=="base"{print $2}' $f)
    fuzz_clean
    fuzz_apply $f || { say "FUZZ-SKIP $b: base $base not handed in"; continue; }
    case $base in remus*.s2r|xen-*-remus*.s2r) cmd=remus-receive ;; *.s2r) cmd=migrate-receive ;; *) cmd=restore ;; esac
    say "FUZZ-START $b"
    t0=$(now)
    if [ $cmd = restore ]; then timeout -k 5 $tmo xl restore $FUZZIN > /tmp/fuzz-log.txt 2>&1; rc=$?
    elif [ $cmd = remus-receive ]; then timeout -k 5 $tmo xl migrate-receive -r < $FUZZIN > /dev/null 2> /tmp/fuzz-log.txt; rc=$?
    else timeout -k 5 $tmo xl migrate-receive -e < $FUZZIN > /dev/null 2> /tmp/fuzz-log.txt; rc=$?; fi
    tr=$(el $t0 $(now))
    fuzz_undo
    left=""; for d in $(domlist); do case " $before " in *" $d "*) ;; *) left="$left$d,";; esac; done
    xl dmesg -c > /tmp/fuzz-dmesg.txt 2>&1
    xen=$(grep -a -m1 -E 'panic|PANIC|BUG|Xen call trace|FATAL' /tmp/fuzz-dmesg.txt | tr '\t' ' ' | cut -c1-200)
    if [ -n "$xen" ]; then cl=xen-crash
    # busybox's timeout ends the command with SIGTERM and returns 143 (coreutils': 124): a SIGTERM at the limit is the
    # limit, not a crash of xl
    elif [ $rc = 124 ] || [ $rc = 137 ] || { [ $rc = 143 ] && [ "$(awk -v t="$tr" -v m="$tmo" 'BEGIN{print (t >= m - 1) ? 1 : 0}')" = 1 ]; }; then cl=hang
    elif [ $rc -ge 128 ]; then cl=xl-crash
    elif [ $rc != 0 ] && [ -n "$left" ]; then cl=half-built
    elif [ $rc != 0 ]; then cl=refused
    else d=${left%%,*}; cl=accepted-dead   # the bases are the lab's own guests: alive needs their ticks, not CPU time alone
      [ -n "$d" ] && [ "$(ALIVE_OWN_NAMES="pv1 pvh1 hvm1" alive $d ${FUZZ_ALIVE_WAIT:-20})" = yes ] && cl=accepted-alive; fi
    msg=${xen:-$(grep -a -m1 -iE 'error|fail|invalid|unable|truncat|unknown|incorrect|mismatch|unsupported|short|segfault|exceed' /tmp/fuzz-log.txt | tr '\t' ' ' | cut -c1-300)}
    if [ $cl != refused ]; then   # keep the evidence of everything that is not a clean refusal
      { echo "== $b ($cmd rc=$rc class=$cl left=${left:--})"; cat /tmp/fuzz-log.txt; echo "-- xl dmesg"; cat /tmp/fuzz-dmesg.txt
        [ -n "$left" ] && { echo "-- xl list"; xl list; echo "-- judge: $(cat /tmp/judge-${left%%,*} 2>/dev/null)"; }; } >> $P/$sc-evidence.txt 2>&1
    fi
    line=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$b" "$base" "$cmd" "$cl" "$rc" "$tr" "${left:--}" "${msg:--}")
    echo "$line" >> $P/$sc-results.tsv; echo "$cl" >> /tmp/fuzz-classes
    echo "LAB: FUZZ	$line"
    nm=$((nm + 1))
  done
  destroy_all
  secs=$(el $tt0 $(now))
  summ=$(sort /tmp/fuzz-classes | uniq -c | awk '{printf "%s=%s ", $2, $1}')
  rate=$(awk -v n=$nm -v s=$secs 'BEGIN{printf "%.0f", (s > 0) ? n * 3600 / s : 0}')
  say "FUZZ-SUMMARY $sc mutants=$nm seconds=$secs per_hour=$rate $summ"
  [ $nm = 0 ] && { result $sc SKIP 0 - "no spec handed in"; return; }
  result $sc PASS $secs - "mutants=$nm per_hour=$rate $summ"
}

# ------------------------------------------------------------------------------------------
say "runner start: scenarios: $SCEN"
if [ -n "${XENLAB_WATCHDOG:-$(grep -o 'watchdog' /in/scenarios-opts 2>/dev/null)}" ]; then
  ( while sleep 20; do
      echo "LAB: watchdog uptime=$(now) procs: $(ps -o pid,args | grep -E 'xl|qemu|timeout' | grep -v grep | cut -c1-120 | tr '\n' ';')"
      echo "LAB: watchdog domains: $(xl list 2>/dev/null | awk 'NR>1{printf "%s/%s/%s ", $1, $5, $6}') consoles: $(ls -l $CONS 2>/dev/null | awk 'NR>1{printf "%s:%s ", $NF, $5}')"
      echo "LAB: watchdog qemu-dm: $(tail -c 300 /var/log/xen/qemu-dm-*.log 2>/dev/null | tr '\n' ' ')"
      echo "LAB: watchdog xl: $(tail -c 300 $P/log-guests.txt 2>/dev/null | tr '\n' ' ')"
      echo "LAB: watchdog xen console (guest firmware via port 0xe9): $(xl dmesg 2>/dev/null | grep -a '(d[1-9]' | tail -4 | tr '\n' ' ' | cut -c1-600)"
      echo "LAB: watchdog serial: $(tail -c 200 $CONS/guest-*-serial.log 2>/dev/null | tr -c '[:print:]' ' ')"
      echo "LAB: watchdog top: $(top -b -n 1 2>/dev/null | sed -n '1,2p;5,10p' | cut -c1-100 | tr '\n' ';')"
    done ) &
fi
xl info > $P/xl-info.txt 2>&1
for s in $SCEN; do
  say "scenario $s start uptime=$(now)"
  case $s in
    save-pv)      sc_save save-pv pv pv1 ;;
    save-c)       sc_save save-c pv pv1 -c ;;
    save-pvh)     sc_save save-pvh pvh pvh1 ;;
    migrate-pv)   sc_migrate migrate-pv pv pv1 ;;
    migrate-pvh)  sc_migrate migrate-pvh pvh pvh1 ;;
    migrate-debug) sc_migrate migrate-debug pvh pvh1 --debug ;;
    remus-pvh)    sc_remus remus-pvh pvh pvh1 ;;
    save-hvm)     sc_save save-hvm hvm hvm1 ;;
    migrate-hvm)  sc_migrate migrate-hvm hvm hvm1 ;;
    remus-hvm)    sc_remus remus-hvm hvm hvm1 ;;
    restore-host) sc_restore_host ;;
    engine-roundtrip) sc_restore_host engine-roundtrip /in/engine ;;
    receive-replay) sc_receive_replay ;;
    migrate-recorded) sc_migrate_recorded ;;
    replay-recorded) sc_replay_recorded ;;
    bad-streams)  sc_bad ;;
    real-restore) sc_fuzz real-restore /in/fuzz $(cat /in/fuzz-seconds 2>/dev/null || echo 600) ;;
    findings)     sc_fuzz findings /in/findings 0 ;;
    replay-streams) sc_replay_streams ;;
    colo-attempt) sc_colo ;;
    hvm-probe)    sc_hvm_probe ;;
    foreign-save-pv)  sc_save foreign-save-pv pv web-frontend-01; xl destroy web-frontend-01 >/dev/null 2>&1 ;;
    foreign-save-pvh) sc_save foreign-save-pvh pvh db_replica-2; xl destroy db_replica-2 >/dev/null 2>&1 ;;
    foreign-save-hvm) sc_save foreign-save-hvm hvm hvm-prod-7; xl destroy hvm-prod-7 >/dev/null 2>&1; xl vcpu-pin Domain-0 all all >/dev/null 2>&1 ;;
    foreign-migrate-pvh) sc_migrate foreign-migrate-pvh pvh api-gw-3; xl destroy api-gw-3 >/dev/null 2>&1 ;;
    *)            result $s SKIP 0 - "unknown scenario" ;;
  esac
  xl list > $P/xl-list-$s.txt 2>&1
  flush_out
done
destroy_all
xl dmesg > $P/xl-dmesg.txt 2>&1
cp $CONS/*.log /var/log/xen/qemu-dm-*.log /var/log/xen/xl-*.log $P/ 2>/dev/null
dmesg > $P/dom0-dmesg.txt 2>&1
flush_out
say "runner done uptime=$(now)"
