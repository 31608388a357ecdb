<?php
// The adminer image's entrypoint: see the comment in the template's source.
$servers = [
    'php-fpm' => ['/usr/sbin/php-fpm@PHP_VERSION@', ['--nodaemonize', '--force-stderr']],
    'nginx' => ['/usr/sbin/nginx', ['-e', 'stderr']],
];
$role = $argv[1] ?? 'all';
if ($role !== 'all' && !isset($servers[$role])) {
    fwrite(STDERR, "adminer: unknown role '$role'; use all, nginx or php-fpm\n");
    exit(64);
}
if ($role !== 'all') {
    pcntl_exec($servers[$role][0], $servers[$role][1]);
    fwrite(STDERR, "adminer: cannot start {$servers[$role][0]}\n");
    exit(127);
}
$children = [];
foreach ($servers as $name => [$binary, $args]) {
    $pid = pcntl_fork();
    if ($pid === 0) {
        pcntl_exec($binary, $args);
        fwrite(STDERR, "adminer: cannot start $binary\n");
        exit(127);
    }
    $children[$pid] = $name;
}
$stopping = false;
$stop = function () use (&$children, &$stopping) {
    $stopping = true;
    foreach ($children as $pid => $name) posix_kill($pid, SIGQUIT);
};
pcntl_async_signals(true);
// No SA_RESTART: the wait below must return to let the handler run.
foreach ([SIGTERM, SIGINT, SIGQUIT] as $signal) pcntl_signal($signal, $stop, false);
$status = 0;
while ($children) {
    $pid = pcntl_wait($wait_status);  // also reaps orphans: this is PID 1
    if ($pid <= 0) {
        if (pcntl_get_last_error() === PCNTL_EINTR) continue;
        break;
    }
    if (!isset($children[$pid])) continue;
    $name = $children[$pid];
    unset($children[$pid]);
    $code = pcntl_wifexited($wait_status) ? pcntl_wexitstatus($wait_status)
                                          : 128 + pcntl_wtermsig($wait_status);
    if (!$stopping) {
        fwrite(STDERR, "adminer: $name exited with status $code; stopping\n");
        $status = $code ?: 1;
        $stop();
    }
}
exit($status);
