# fish completion for vetstage: commands, subcommands, options from
# vetstage's own --help, NAME@VERSION from the cache.

function __vetstage_refs
    vetstage -q cache list 2>/dev/null | awk '$1 ~ /@/ { print $1 }'
end

function __vetstage_opts
    set -l cmd (commandline -opc)
    vetstage $cmd[2..3] --help 2>/dev/null | string match -r -a -- '--[a-z0-9-]{2,}' | sort -u
end

set -l cmds keys verify fetch cache stage pull layout render mirror
complete -c vetstage -f
complete -c vetstage -n "not __fish_seen_subcommand_from $cmds" -a "$cmds"
complete -c vetstage -n "not __fish_seen_subcommand_from $cmds" -l home -r -F -d 'the vetstage home'
complete -c vetstage -n "not __fish_seen_subcommand_from $cmds" -l config -r -F -d 'configuration file (sources)'
complete -c vetstage -n "not __fish_seen_subcommand_from $cmds" -l json -d 'one JSON object on stdout'
complete -c vetstage -n "not __fish_seen_subcommand_from $cmds" -s q -d quiet
complete -c vetstage -n "not __fish_seen_subcommand_from $cmds" -s v -d verbose
complete -c vetstage -n "not __fish_seen_subcommand_from $cmds" -l no-progress
complete -c vetstage -n "not __fish_seen_subcommand_from $cmds" -l version
complete -c vetstage -n "__fish_seen_subcommand_from keys; and not __fish_seen_subcommand_from import list remove" -a "import list remove"
complete -c vetstage -n "__fish_seen_subcommand_from cache; and not __fish_seen_subcommand_from list show path fsck gc rm" -a "list show path fsck gc rm"
complete -c vetstage -n "__fish_seen_subcommand_from layout; and not __fish_seen_subcommand_from check" -a check
complete -c vetstage -n "__fish_seen_subcommand_from render; and not __fish_seen_subcommand_from sidecar embedded ecs-task" -a "sidecar embedded ecs-task"
complete -c vetstage -n "__fish_seen_subcommand_from mirror; and not __fish_seen_subcommand_from sync export import" -a "sync export import"
complete -c vetstage -n "__fish_seen_subcommand_from stage show path rm export" -a "(__vetstage_refs)"
complete -c vetstage -n "__fish_seen_subcommand_from $cmds; and string match -q -- '-*' (commandline -ct)" -a '(__vetstage_opts)'
complete -c vetstage -n "__fish_seen_subcommand_from verify keys import sync layout" -F
