Attribute VB_Name = "calpae"
Option Explicit
' Boutons de la maquette financiere CALPAE.
' Chaque bouton appelle le paquet Python calpae_xl par RunPython (module xlwings
' de ce classeur : aucun complement a installer). Python lit la maquette, ecrit
' les resultats dans le classeur et dit ce qu'il a fait dans un message.
' Source sous controle de version : macros/calpae.bas (projet calpae_xl).

Public Sub Recalculer()
    On Error GoTo Echec
    RunPython "import calpae_xl.excel as calpae; calpae.recalculer()"
    Exit Sub
Echec:
    Signaler "Recalculer", Err.Description
End Sub

Public Sub Controler()
    On Error GoTo Echec
    RunPython "import calpae_xl.excel as calpae; calpae.controler()"
    Exit Sub
Echec:
    Signaler "Contrôler", Err.Description
End Sub

Public Sub GenererFiches()
    On Error GoTo Echec
    RunPython "import calpae_xl.excel as calpae; calpae.generer_fiches()"
    Exit Sub
Echec:
    Signaler "Générer les fiches", Err.Description
End Sub

Private Sub Signaler(ByVal bouton As String, ByVal cause As String)
    MsgBox "« " & bouton & " » n'a pas pu s'exécuter : " & cause & vbCrLf & vbCrLf & _
        "Le classeur n'a pas été modifié. Vérifiez que Python est installé avec le paquet calpae-xl :" & vbCrLf & _
        "    pip install ""calpae-xl[excel]""" & vbCrLf & _
        "puis réessayez. Si le problème persiste, transmettez ce message à votre service informatique.", _
        vbCritical, "CALPAE — maquette financière"
End Sub
