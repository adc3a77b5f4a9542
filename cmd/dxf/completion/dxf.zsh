#compdef dxf
# zsh completion for dxf: dxf completion zsh > "${fpath[1]}/_dxf"
_dxf() {
    local -a cands
    local line files=0
    while IFS= read -r line; do
        if [[ $line == :files ]]; then
            files=1
        elif [[ -n $line ]]; then
            cands+=("$line")
        fi
    done < <("${words[1]}" __complete "${(@)words[2,CURRENT]}" 2>/dev/null)
    (( ${#cands} )) && compadd -Q -- "${cands[@]}"
    (( files )) && _files
    return 0
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _dxf "$@"
else
    compdef _dxf dxf
fi
