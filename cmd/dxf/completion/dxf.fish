# fish completion for dxf: dxf completion fish > ~/.config/fish/completions/dxf.fish
function __dxf_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l out ($words[1] __complete $words[2..-1] 2>/dev/null)
    for line in $out
        if test "$line" = ":files"
            __fish_complete_path (commandline -ct)
        else if test -n "$line"
            echo $line
        end
    end
end
complete -c dxf -f -a '(__dxf_complete)'
