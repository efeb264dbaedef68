# Cross-check (not a test dependency): the diffusers schedulers' algorithms written independently in their native VP frame
# (epsilon model, alphas_cumprod), to compare with `langevin sample --model analytic:... --dtype float64`. Needs numpy + torch
# (Debian python3-torch). Usage: /usr/bin/python3 bench/peers/vp_frame_schedulers.py ddim 50 leading 0 true false linear NOISE.npy OUT.npy
#   (also: dpm N KARRAS BETAS NOISE OUT; unipc N KARRAS BETAS NOISE OUT). Measured agreement: docs/methods/samplers.md.
# Independent VP-frame transliteration of the diffusers schedulers' algorithms (from their documented formulas), float64.
import numpy as np, json, sys
T=1000
def betas(kind):
    if kind=='linear':
        import torch
        return torch.linspace(1e-4,0.02,T,dtype=torch.float32).numpy().astype(np.float64)
    ab=lambda u: np.cos((u+0.008)/1.008*np.pi/2)**2
    return np.array([min(1-ab((i+1)/T)/ab(i/T),0.999) for i in range(T)],dtype=np.float32).astype(np.float64)
def acp(kind):
    import torch
    b=torch.tensor(betas(kind),dtype=torch.float32)
    return torch.cumprod(1-b,0).numpy().astype(np.float64)
mix=json.load(open('examples/mixture2d.json')); W=np.array(mix['weights']); M=np.array(mix['means']); S=mix['std']
def D(x,sig):
    v=S*S+sig*sig
    d2=((x[:,None,:]-M[None])**2).sum(-1)
    lg=np.log(W)[None]-d2/(2*v); lg-=lg.max(1,keepdims=True); r=np.exp(lg); r/=r.sum(1,keepdims=True)
    return (r[:,:,None]*(S*S*x[:,None,:]+sig*sig*M[None])/v).sum(1)
def eps_model(xvp,a):  # a = alphā at the model's timestep
    sig=np.sqrt((1-a)/a); x0=D(xvp/np.sqrt(a),sig); return (xvp-np.sqrt(a)*x0)/np.sqrt(1-a)
def ddim(noise,N,spacing='leading',offset=0,sato=True,clip=False,kind='linear'):
    A=acp(kind); r=T//N
    if spacing=='leading': ts=(np.arange(N)*r).round()[::-1].astype(int)+offset
    elif spacing=='trailing': ts=(np.round(np.arange(T,0,-T/N))-1).astype(int)
    else: ts=np.linspace(0,T-1,N).round()[::-1].astype(int)
    final=1.0 if sato else A[0]; x=noise.copy()
    for t in ts:
        p=t-r; a=A[t]; ap=A[p] if p>=0 else final
        e=eps_model(x,a); x0=(x-np.sqrt(1-a)*e)/np.sqrt(a)
        if clip: x0=np.clip(x0,-1,1)
        x=np.sqrt(ap)*x0+np.sqrt(1-ap)*e
    return x
def sig_to_t(s,ls):
    l=np.log(s); d=l-ls; lo=min(np.cumsum(d>=0).argmax(),len(ls)-2); hi=lo+1
    w=np.clip((ls[lo]-l)/(ls[lo]-ls[hi]),0,1); return (1-w)*lo+w*hi
def karras(smin,smax,N,rho=7.0):
    ramp=np.linspace(0,1,N); return (smax**(1/rho)+ramp*(smin**(1/rho)-smax**(1/rho)))**rho
def multistep_sigmas(N,karr,kind,spacing='linspace'):
    A=acp(kind); sig=np.sqrt((1-A)/A); ls=np.log(sig)
    if karr:
        s=karras(sig[0],sig[-1],N); ts=np.array([sig_to_t(v,ls) for v in s]).round().astype(int)
    else:
        ts=np.linspace(0,T-1,N+1).round()[::-1][:-1].astype(int); s=sig[ts]
    return np.concatenate([s,[0.0]]), ts, A
def dpmpp2m(noise,N,karr=False,kind='linear'):
    s,ts,A=multistep_sigmas(N,karr,kind); x=noise.copy(); ms=[]
    al=lambda v: 1/np.sqrt(v*v+1)
    for i,t in enumerate(ts):
        e=eps_model(x,A[t]); a_i=al(s[i]); sv=s[i]*a_i; x0=(x-sv*e)/a_i; ms.append(x0)
        at=al(s[i+1]); st=s[i+1]*at
        if s[i+1]==0: x=x0; continue
        lt=np.log(at)-np.log(st); l0=np.log(a_i)-np.log(sv); h=lt-l0
        if i==0: x=(st/sv)*x-at*(np.exp(-h)-1)*x0
        else:
            a1=al(s[i-1]); l1=np.log(a1)-np.log(s[i-1]*a1); r0=(l0-l1)/h
            D0=ms[-1]; D1=(ms[-1]-ms[-2])/r0
            x=(st/sv)*x-at*(np.exp(-h)-1)*D0-0.5*at*(np.exp(-h)-1)*D1
    return x
def unipc(noise,N,karr=False,kind='linear',order=2):
    s,ts,A=multistep_sigmas(N,karr,kind); x=noise.copy()
    al=lambda v: 1/np.sqrt(v*v+1)
    lam=lambda v: (np.log(al(v))-np.log(v*al(v))) if v>0 else np.inf
    outs=[]; last=None; this_order=None; lon=0
    def upd(xs, i_s, i_t, order, model_t=None, outs_=None):
        m0=outs_[-1]; st_=s[i_t]; ss=s[i_s]; at=al(st_); ass=al(ss)
        sigt=st_*at; sigs=ss*ass
        h=lam(st_)-lam(ss); hh=-h; hphi1=np.expm1(hh); Bh=np.expm1(hh)
        rks=[];D1s=[]
        for k in range(1,order):
            si=i_s-k; mi=outs_[-(k+1)]; rk=(lam(s[si])-lam(ss))/h; rks.append(rk); D1s.append((mi-m0)/rk)
        rks.append(1.0); rks=np.array(rks)
        R=[];b=[]; hphik=hphi1/hh-1; fac=1
        for p in range(1,order+1):
            R.append(rks**(p-1)); b.append(hphik*fac/Bh); fac*=p+1; hphik=hphik/hh-1/fac
        R=np.array(R); b=np.array(b)
        xt_=sigt/sigs*xs-at*hphi1*m0
        if model_t is None:
            if len(D1s)>0:
                rp=np.array([0.5]) if order==2 else np.linalg.solve(R[:-1,:-1],b[:-1])
                res=sum(rp[k]*D1s[k] for k in range(len(D1s)))
            else: res=0
            return xt_-at*Bh*res
        rc=np.array([0.5]) if order==1 else np.linalg.solve(R,b)
        res=sum(rc[k]*D1s[k] for k in range(len(D1s))) if D1s else 0
        return xt_-at*Bh*(res+rc[-1]*(model_t-m0))
    for i,t in enumerate(ts):
        e=eps_model(x,A[t]); a_i=al(s[i]); x0=(x-s[i]*a_i*e)/a_i
        if i>0: x=upd(last,i-1,i,this_order,model_t=x0,outs_=outs)
        outs.append(x0); outs=outs[-order:]
        to=min(order,len(ts)-i); to=min(to,lon+1); this_order=to; last=x.copy()
        if s[i+1]==0 and to==1: x=outs[-1]
        else: x=upd(x,i,i+1,to,outs_=outs)
        lon=min(lon+1,order)
    return x
noise=np.load(sys.argv[-2])
which=sys.argv[1]
if which=='ddim': out=ddim(noise,int(sys.argv[2]),sys.argv[3],int(sys.argv[4]),sys.argv[5]=='true',sys.argv[6]=='true',sys.argv[7])
elif which=='dpm': out=dpmpp2m(noise,int(sys.argv[2]),sys.argv[3]=='true',sys.argv[4])
elif which=='unipc': out=unipc(noise,int(sys.argv[2]),sys.argv[3]=='true',sys.argv[4])
np.save(sys.argv[-1],out)
